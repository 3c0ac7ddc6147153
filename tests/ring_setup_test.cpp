// Ring setup failures become one clear exception naming the cause. The
// kernel's refusals are produced for real: a child process installs a seccomp
// filter that makes io_uring_setup fail as a kernel without io_uring
// (ENOSYS) or with it disabled (EPERM) does.

#include <catch2/catch.hpp>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <system_error>

#include "aio/aio.hpp"
#include "test_util.hpp"

namespace {

void forbid_io_uring_setup(int err) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    _exit(77);
  }
}

/// Creates an EventLoop in a child whose io_uring_setup fails with `err`;
/// returns "<errno>:<what()>" of the exception the child caught.
std::string loop_error_without_io_uring(int err) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    forbid_io_uring_setup(err);
    std::string msg = "no exception";
    try {
      aio::EventLoop loop;
    } catch (const std::system_error& e) {
      msg = std::to_string(e.code().value()) + ":" + e.what();
    } catch (...) {
      msg = "another exception";
    }
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) return "skip";
  return out;
}

}  // namespace

TEST_CASE("a kernel without io_uring gives a clear ENOSYS error", "[uring][setup]") {
  const std::string out = loop_error_without_io_uring(ENOSYS);
  if (out == "skip") test::skip("seccomp filters are not available");
  CHECK_THAT(out, Catch::StartsWith(std::to_string(ENOSYS) + ":") &&
                      Catch::Contains("io_uring is not available in this kernel"));
}

TEST_CASE("io_uring disabled by sysctl or seccomp gives a clear EPERM error", "[uring][setup]") {
  const std::string out = loop_error_without_io_uring(EPERM);
  if (out == "skip") test::skip("seccomp filters are not available");
  CHECK_THAT(out, Catch::StartsWith(std::to_string(EPERM) + ":") &&
                      Catch::Contains("kernel.io_uring_disabled"));
}

TEST_CASE("a ring the kernel cannot allocate gives a clear ENOMEM error", "[uring][setup]") {
  const std::string out = loop_error_without_io_uring(ENOMEM);
  if (out == "skip") test::skip("seccomp filters are not available");
  CHECK_THAT(out, Catch::StartsWith(std::to_string(ENOMEM) + ":") && Catch::Contains("RLIMIT_MEMLOCK"));
}
