// aio::Process: posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK), the exec's
// errno reported back and the failed child reaped by glibc), a pidfd from
// pidfd_open (the child is unreaped, so its pid cannot be reused
// meanwhile), and waits on the ring (wait_op.hpp).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <span>
#include <cerrno>
#include <system_error>

#include "../driver.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/errors.hpp"
#include "aio/fd.hpp"
#include "aio/gather.hpp"
#include "aio/net/connection.hpp"
#include "aio/outcome.hpp"
#include "aio/subprocess.hpp"
#include "wait_op.hpp"

extern char** environ;

namespace aio {
namespace detail {
namespace {

std::atomic<bool> g_waitid_enabled{true};

int sys_pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int sys_pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

void set_waitid_enabled(bool enabled) noexcept { g_waitid_enabled.store(enabled, std::memory_order_relaxed); }

struct ProcessState final : LoopResource {
  explicit ProcessState(LoopCore& l) : loop(&l) { loop_closed = &on_loop_closed; }
  ~ProcessState() {
    if (linked()) unlink();
    release();
  }

  /// Reaps the child if it ended (never blocks). True once returncode is known.
  bool try_reap(int options = WNOHANG) noexcept {
    if (returncode) return true;
    siginfo_t info{};
    int r;
    do {
      r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | options);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      // Reaped behind our back (waitpid(-1) elsewhere): the status is lost,
      // as asyncio's child watcher reports it.
      if (errno == ECHILD) returncode = 255;
      return returncode.has_value();
    }
    if (info.si_pid == 0) return false;  // still running
    returncode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
    return true;
  }

  /// Closes the pipes; kills and reaps a child still running; closes the pidfd.
  void release() noexcept {
    for (int& fd : fds) close_fd(fd);
    // The streams are not dropped here: a frame may still be suspended in a
    // read of one. They close their descriptors themselves when the loop
    // closes, and go with the ProcessState.
    if (pidfd >= 0 && !try_reap()) {
      sys_pidfd_send_signal(pidfd, SIGKILL);
      try_reap(0);  // SIGKILL: the child ends at once
    }
    close_fd(pidfd);
  }

  static void on_loop_closed(LoopResource* r) noexcept {
    auto* self = static_cast<ProcessState*>(r);
    self->release();
    self->loop = nullptr;
  }

  LoopCore* loop;
  pid_t pid = -1;
  int pidfd = -1;
  int fds[3] = {-1, -1, -1};  // the parent's ends: stdin, stdout, stderr
  // The pipes as streams, made at the first accessor call (then fds[i] is -1).
  std::optional<StreamWriter> in;
  std::optional<StreamReader> out, err;
  std::optional<int> returncode;
};

namespace {

// Owns the descriptors and the posix_spawn objects of one spawn in progress.
struct Spawn {
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  Spawn() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~Spawn() {
    for (auto& p : pipes) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  Spawn(const Spawn&) = delete;
  Spawn& operator=(const Spawn&) = delete;
};

void check(int r, const char* what) {
  if (r != 0) throw std::system_error(r, std::system_category(), what);
}

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction cur {};
    if (::sigaction(SIGPIPE, nullptr, &cur) == 0 && cur.sa_handler == SIG_DFL) {
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      sigemptyset(&ign.sa_mask);
      ::sigaction(SIGPIPE, &ign, nullptr);
    }
  });
}

std::unique_ptr<ProcessState> spawn_child(LoopCore& loop, const std::string& program, const std::vector<std::string>& args,
                                          const ProcessOptions& o) {
  if (o.stdin_mode == STDOUT || o.stdout_mode == STDOUT) {
    throw ValueError("aio: STDOUT is only valid as stderr_mode");
  }
  const Stdio modes[3] = {o.stdin_mode, o.stdout_mode, o.stderr_mode};
  if (modes[0] == PIPE) ignore_sigpipe_once();

  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (o.env) {
    env_strings.reserve(o.env->size());
    for (const auto& [k, v] : *o.env) env_strings.push_back(k + "=" + v);
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
  }

  Spawn sp;
  for (int i = 0; i < 3; ++i) {
    const int child_fd = i;
    switch (modes[i]) {
      case Stdio::pipe: {
        // Close-on-exec on both ends: a child spawned meanwhile by another
        // thread inherits neither; the dup2 below clears it on the child's copy.
        if (::pipe2(sp.pipes[i], O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "aio: pipe2");
        const int child_end = sp.pipes[i][i == 0 ? 0 : 1];
        check(posix_spawn_file_actions_adddup2(&sp.actions, child_end, child_fd), "posix_spawn_file_actions_adddup2");
        break;
      }
      case Stdio::devnull:
        check(posix_spawn_file_actions_addopen(&sp.actions, child_fd, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0),
              "posix_spawn_file_actions_addopen");
        break;
      case Stdio::to_stdout:
        check(posix_spawn_file_actions_adddup2(&sp.actions, 1, 2), "posix_spawn_file_actions_adddup2");
        break;
      case Stdio::inherit:
        break;
    }
  }
  if (o.cwd) check(posix_spawn_file_actions_addchdir_np(&sp.actions, o.cwd->c_str()), "posix_spawn_file_actions_addchdir_np");
  // Ignored dispositions survive exec: give the child SIGPIPE and SIGXFSZ at
  // their defaults (Python's restore_signals).
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  check(posix_spawnattr_setsigdefault(&sp.attr, &defaults), "posix_spawnattr_setsigdefault");
  check(posix_spawnattr_setflags(&sp.attr, POSIX_SPAWN_SETSIGDEF), "posix_spawnattr_setflags");

  pid_t pid = -1;
  const bool search = program.find('/') == std::string::npos;
  char** env = o.env ? envp.data() : environ;
  const int r = search ? posix_spawnp(&pid, program.c_str(), &sp.actions, &sp.attr, argv.data(), env)
                       : posix_spawn(&pid, program.c_str(), &sp.actions, &sp.attr, argv.data(), env);
  if (r != 0) throw std::system_error(r, std::system_category(), "aio::create_subprocess_exec: " + program);

  auto state = std::make_unique<ProcessState>(loop);
  state->pid = pid;
  state->pidfd = sys_pidfd_open(pid);
  if (state->pidfd < 0) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw std::system_error(e, std::system_category(), "aio: pidfd_open");
  }
  for (int i = 0; i < 3; ++i) {
    if (modes[i] != Stdio::pipe) continue;
    const int parent_end = i == 0 ? 1 : 0;
    state->fds[i] = sp.pipes[i][parent_end];
    sp.pipes[i][parent_end] = -1;  // the child's end is closed by ~Spawn
  }
  loop.add_resource(state.get());
  return state;
}

Task<void> feed(StreamWriter& w, std::string input) {
  try {
    w.write(input);
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
  } catch (const std::system_error& e) {
    // The child closed its stdin (or exited): what it did not read is dropped, as asyncio.
    if (e.code().value() != EPIPE && e.code().value() != ECONNRESET) throw;
    w.abort();
  }
}

Task<void> drain(StreamReader& r, std::string& into) { into = co_await r.read(-1); }

}  // namespace
}  // namespace detail

Process::Process(std::unique_ptr<detail::ProcessState> state) noexcept : state_(std::move(state)) {}
Process::Process(Process&&) noexcept = default;
Process& Process::operator=(Process&&) noexcept = default;
Process::~Process() = default;

pid_t Process::pid() const noexcept { return state_ ? state_->pid : -1; }
std::optional<int> Process::returncode() const noexcept { return state_ ? state_->returncode : std::nullopt; }
int Process::stdin_fd() const noexcept { return state_ ? state_->fds[0] : -1; }
int Process::stdout_fd() const noexcept { return state_ ? state_->fds[1] : -1; }
int Process::stderr_fd() const noexcept { return state_ ? state_->fds[2] : -1; }
StreamWriter* Process::stdin_writer() {
  if (!state_) return nullptr;
  detail::ProcessState& s = *state_;
  if (!s.in && s.fds[0] >= 0) {
    s.in.emplace(detail::pipe_writer(s.fds[0]));
    s.fds[0] = -1;
  }
  return s.in ? &*s.in : nullptr;
}

namespace {
StreamReader* reader_of(std::optional<StreamReader>& r, int& fd) {
  if (!r && fd >= 0) {
    r.emplace(detail::pipe_reader(fd));
    fd = -1;
  }
  return r ? &*r : nullptr;
}
}  // namespace

StreamReader* Process::stdout_reader() { return state_ ? reader_of(state_->out, state_->fds[1]) : nullptr; }
StreamReader* Process::stderr_reader() { return state_ ? reader_of(state_->err, state_->fds[2]) : nullptr; }

Task<int> Process::wait() {
  if (!state_) throw RuntimeError("aio::Process: empty (moved from)");
  detail::ProcessState& s = *state_;
  if (s.returncode) co_return *s.returncode;
  if (s.loop == nullptr) throw RuntimeError("aio::Process::wait: the process's event loop is closed");
  const bool use_waitid =
      detail::g_waitid_enabled.load(std::memory_order_relaxed) && s.loop->driver().ring.supports(detail::kOpWaitid);
  while (!s.returncode) {
    detail::ChildWaitOp op(s.pidfd, use_waitid);
    const int r = co_await op;
    // Ended: reap it now (another wait may have done so meanwhile).
    if (r == 0 || r == -ECHILD) s.try_reap();
  }
  co_return *s.returncode;
}

Task<CommunicateResult> Process::communicate(std::string input) {
  CommunicateResult result;
  std::vector<Task<void>> parts;
  if (StreamWriter* w = stdin_writer()) parts.push_back(detail::feed(*w, std::move(input)));
  if (StreamReader* r = stdout_reader()) parts.push_back(detail::drain(*r, result.out));
  if (StreamReader* r = stderr_reader()) parts.push_back(detail::drain(*r, result.err));
  if (!parts.empty()) {
    // Settled: every part has ended (and stopped using `result`) before this frame goes on.
    auto outcomes = co_await gather_settled(std::move(parts));
    for (auto& o : outcomes) {
      if (!o.has_value()) std::rethrow_exception(o.exception());
    }
  }
  co_await wait();
  co_return result;
}

void Process::send_signal(int sig) {
  if (!state_ || state_->returncode || state_->pidfd < 0) return;
  if (detail::sys_pidfd_send_signal(state_->pidfd, sig) != 0 && errno != ESRCH) {
    throw std::system_error(errno, std::system_category(), "aio::Process::send_signal");
  }
}

Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, ProcessOptions options) {
  co_return Process(detail::spawn_child(detail::running_loop(), program, args, options));
}

Task<Process> create_subprocess_shell(std::string cmd, ProcessOptions options) {
  std::vector<std::string> args{"-c", std::move(cmd)};
  co_return Process(detail::spawn_child(detail::running_loop(), "/bin/sh", args, options));
}

}  // namespace aio
