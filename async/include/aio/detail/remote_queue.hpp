#pragma once
// The loop's door for other threads: call_soon_threadsafe callbacks and
// finished to_thread jobs are posted here, and a loop blocked in
// io_uring_enter is woken through its ring (an eventfd read armed on it).

#include <atomic>
#include <mutex>

#include "aio/detail/runnable.hpp"

namespace aio::detail {

/// A FIFO of runnables that any thread may post to, drained by the loop's
/// thread into its ready queue.
///
/// Wake-up protocol (all under `mutex_`): before blocking, the loop calls
/// `begin_wait()`, which refuses to let it block when something is queued,
/// else creates the eventfd on first use and sets `waiting_`; the loop then
/// arms an IORING_OP_READ of that eventfd and enters the kernel. A poster
/// that finds `waiting_` set clears it and writes the eventfd (once per
/// wait), which completes the read and ends the loop's wait. A post that
/// finds the loop awake only queues: the loop drains the queue at the start
/// of every iteration. The eventfd is created with the loop (open()), where
/// running out of descriptors is an error the caller expects, and kept with
/// the thread's cached ring for the next loop when the ring is reused.
class RemoteQueue {
 public:
  RemoteQueue() noexcept = default;
  ~RemoteQueue();  // closes the eventfd if close() did not

  /// Loop thread, at setup: takes the thread's cached eventfd when `reuse`,
  /// else creates one. Throws: std::system_error if it cannot be created.
  void open(bool reuse);
  RemoteQueue(const RemoteQueue&) = delete;
  RemoteQueue& operator=(const RemoteQueue&) = delete;

  /// Any thread: appends `r` (linked through `r->next_ready`) and wakes the
  /// loop if it is blocked. Returns false, leaving `r` to the caller, once
  /// the queue is closed.
  bool post(Runnable* r) noexcept;

  /// Loop thread: whether something may be queued (a cheap check per iteration).
  bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
  /// Loop thread: moves every entry posted so far to `ready`, in post order.
  void take_into(ReadyQueue& ready) noexcept;

  /// Loop thread, right before blocking: returns the eventfd whose read must
  /// be armed for the wait, or -1 when entries are queued (do not block).
  int begin_wait() noexcept;
  /// Loop thread, after the wait: posts no longer need to write the eventfd.
  void end_wait() noexcept;

  /// Refuses every later post and closes the eventfd (no read of it may be
  /// in flight any more), or with `reuse` keeps it in the thread's cache
  /// (a count left in it only wakes the next loop once, spuriously).
  /// Returns the entries still queued, linked through `next_ready`, for the
  /// caller to drop.
  Runnable* close(bool reuse = false) noexcept;

  /// The eventfd that wakes the loop (open from open() to close()): a write
  /// of 1 ends the loop's wait, from any thread or a signal handler.
  int wake_fd() const noexcept { return wake_fd_; }

 private:
  std::mutex mutex_;
  Runnable* head_ = nullptr;
  Runnable** tail_ = &head_;
  std::atomic<bool> pending_{false};
  int wake_fd_ = -1;
  bool waiting_ = false;
  bool closed_ = false;
};

}  // namespace aio::detail
