#pragma once
// Signals reaching a loop through its ring: the process-wide handler records
// the signal and writes the owning loop's eventfd, whose read is armed on the
// loop's ring; the loop then runs the callback. See docs/internals.md.

#include <cstdint>
#include <functional>

namespace aio::detail {

class LoopCore;
class TaskBase;

/// Registers `f` for `sig` on `loop` (EventLoop::add_signal_handler);
/// `oneshot`: the handler also resets the disposition to SIG_DFL when the
/// signal arrives, so that the next one acts as if no handler were set.
/// Returns the registration's id. Throws: ValueError (invalid, SIGKILL,
/// SIGSTOP); RuntimeError (loop closed; the signal is handled by another
/// loop); std::system_error (eventfd, sigaction).
std::uint64_t add_signal_handler(LoopCore& loop, int sig, std::function<void()> f, bool oneshot);
/// Removes `sig`'s registration on `loop` (only if its id is `id`, when
/// non-zero) and restores the disposition it replaced. Returns whether one
/// was removed. Throws: ValueError for an invalid number.
bool remove_signal_handler(LoopCore& loop, int sig, std::uint64_t id = 0);

/// asyncio.Runner's SIGINT rule, for aio::run and aio::Runner::run: on the
/// main thread, when SIGINT has its default disposition and no handler of
/// the loop's, the first SIGINT cancels `main` (and restores SIG_DFL at once,
/// so a second one ends the program as SIGINT does). Construct it before
/// running `main`; after `main` ended call rethrow_if_interrupted(main).
/// The destructor (or restore()) puts the disposition back. It costs three
/// sigaction calls and nothing on the ring: the handler sets the loop's
/// interrupt flag and writes its wake-up eventfd.
class SigintGuard {
 public:
  SigintGuard(LoopCore& loop, TaskBase& main);
  ~SigintGuard() { restore(); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

  /// Whether SIGINT arrived while the guard was installed.
  bool interrupted() const noexcept { return interrupted_; }
  /// Throws aio::KeyboardInterrupt when SIGINT arrived and `main` ended
  /// cancelled with no other cancellation outstanding (asyncio: uncancel()
  /// reaches 0); otherwise returns.
  void rethrow_if_interrupted(TaskBase& main);
  void restore() noexcept;
  LoopCore& loop_core() const noexcept { return *loop_; }

 private:
  static void fire(void* self);

  LoopCore* loop_;
  TaskBase* main_;
  bool interrupted_ = false;
};

}  // namespace aio::detail
