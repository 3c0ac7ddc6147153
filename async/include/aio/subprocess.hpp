#pragma once
// aio::create_subprocess_exec / create_subprocess_shell -> aio::Process
// (asyncio's subprocesses): children spawned without copying the address
// space and waited for on the ring.

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aio/net/streams.hpp"
#include "aio/task.hpp"

namespace aio {

/// Where a child's standard stream goes (asyncio.subprocess.PIPE, ...).
enum class Stdio : unsigned char {
  inherit,    ///< the parent's own descriptor (the default)
  pipe,       ///< a pipe to the parent (Process::communicate, the *_fd() accessors)
  devnull,    ///< /dev/null
  to_stdout,  ///< stderr only: into whatever the child's stdout is
};
inline constexpr Stdio INHERIT = Stdio::inherit;
inline constexpr Stdio PIPE = Stdio::pipe;
inline constexpr Stdio DEVNULL = Stdio::devnull;
inline constexpr Stdio STDOUT = Stdio::to_stdout;

struct ProcessOptions {
  Stdio stdin_mode = INHERIT;
  Stdio stdout_mode = INHERIT;
  Stdio stderr_mode = INHERIT;
  /// The child's working directory; unset: the parent's.
  std::optional<std::string> cwd{};
  /// The child's whole environment; unset: the parent's.
  std::optional<std::map<std::string, std::string>> env{};
};

/// communicate()'s result: everything the child wrote to its stdout and
/// stderr pipes (empty for a stream that is not a PIPE).
struct CommunicateResult {
  std::string out;
  std::string err;
};

namespace detail {
struct ProcessState;
/// Tests: false makes wait() poll the pidfd even where IORING_OP_WAITID exists.
void set_waitid_enabled(bool enabled) noexcept;
}  // namespace detail

/// A child process (asyncio.subprocess.Process). Move-only; belongs to the
/// loop it was created on. Destroyed, or its loop closed, while the child
/// is still running, it kills the child (SIGKILL) and reaps it, as asyncio's
/// transport does: no zombie is left behind. The Process must outlive every
/// await on it.
class Process {
 public:
  explicit Process(std::unique_ptr<detail::ProcessState> state) noexcept;
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  ~Process();

  pid_t pid() const noexcept;
  /// The exit status once wait() saw the child end: the exit code, or -N
  /// when a signal N killed it. Empty while unknown.
  std::optional<int> returncode() const noexcept;

  /// Waits for the child to end and returns returncode() (proc.wait()).
  /// One IORING_OP_WAITID (Linux 6.7+, probed; it leaves the child for the
  /// reap that follows, so that several waits may run at once), else a poll
  /// of the child's pidfd. Nothing else is reaped: no SIGCHLD handler.
  /// Throws: std::system_error if the kernel refuses the wait.
  /// Cancel safety: a cancelled wait() throws CancelledError and leaves the
  /// child running, untouched (asyncio); wait() again later.
  [[nodiscard]] Task<int> wait();

  /// Writes `input` to the child's stdin (when a PIPE; then closes it) while
  /// it reads the stdout and stderr pipes to their end, concurrently, so
  /// that no full pipe deadlocks; then waits for the child
  /// (proc.communicate). It goes through the same streams as stdin_writer()
  /// and the readers: what a reader already buffered is part of the result.
  /// The pipes are closed afterwards. A child that
  /// stops reading its stdin (EPIPE) is not an error.
  /// Throws: std::system_error from a read or write other than EPIPE.
  /// Cancel safety: cancelling it cancels the reads and the write; what was
  /// read so far is lost; the child keeps running.
  [[nodiscard]] Task<CommunicateResult> communicate(std::string input = {});

  /// Sends `sig` to the child through its pidfd (no pid reuse race); a
  /// no-op once the child was reaped. Throws: std::system_error (EINVAL).
  void send_signal(int sig);
  /// send_signal(SIGTERM).
  void terminate() { send_signal(15); }
  /// send_signal(SIGKILL).
  void kill() { send_signal(9); }

  /// The child's stdin as a StreamWriter (proc.stdin), null unless its
  /// stdin_mode is PIPE. Made at the first call (on the loop's thread),
  /// then the same object; the Process owns it. `write_eof()` or `close()`
  /// gives the child end of file. A write after the child closed its stdin
  /// fails with std::errc::broken_pipe (EPIPE; SIGPIPE is ignored, above).
  StreamWriter* stdin_writer();
  /// The child's stdout (proc.stdout) as a StreamReader, null unless PIPE;
  /// made at the first call, owned by the Process. `read()` to EOF gives
  /// everything the child wrote.
  StreamReader* stdout_reader();
  /// The child's stderr (proc.stderr), as stdout_reader().
  StreamReader* stderr_reader();

  /// The parent's end of a pipe as a descriptor (-1 unless PIPE, or once its
  /// stream was made or the pipe closed); owned by the Process.
  int stdin_fd() const noexcept;
  int stdout_fd() const noexcept;
  int stderr_fd() const noexcept;

 private:
  std::unique_ptr<detail::ProcessState> state_;
};

/// Starts `program` with `args` (argv = program, args...; a program without
/// a '/' is looked up in PATH) on the running loop
/// (asyncio.create_subprocess_exec). posix_spawn (clone with CLONE_VFORK:
/// no copy of the address space). With stdin a PIPE, SIGPIPE is set to
/// SIG_IGN in the parent if it had its default disposition (as CPython does
/// at startup: a write to a child that closed its stdin fails with EPIPE);
/// children get SIGPIPE back at its default.
/// Throws: std::system_error with the errno from the exec itself (ENOENT:
/// no such program; EACCES: not executable; ...), which leaves no child, no
/// zombie and no open descriptor; ValueError for STDOUT as stdin_mode or
/// stdout_mode; RuntimeError outside a running loop.
/// Cancel safety: the spawn is not a suspension point once started.
[[nodiscard]] Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                                   ProcessOptions options = {});

/// Runs `cmd` with `/bin/sh -c` (asyncio.create_subprocess_shell); as
/// create_subprocess_exec otherwise. A command that does not exist makes
/// the shell exit with 127.
[[nodiscard]] Task<Process> create_subprocess_shell(std::string cmd, ProcessOptions options = {});

}  // namespace aio
