// Before any test runs: on a machine without io_uring (kernel.io_uring_disabled,
// a seccomp or container policy, an old kernel) every case would fail the
// same way; report the run as skipped instead (CTest's SKIP_RETURN_CODE 77).

#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

const bool checked = [] {
  io_uring_params p{};
  const long fd = ::syscall(__NR_io_uring_setup, 1, &p);
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    return true;
  }
  if (errno == ENOSYS || errno == EPERM) {
    std::fprintf(stderr, "SKIPPED: io_uring is not available here (io_uring_setup: %s)\n", std::strerror(errno));
    std::fflush(nullptr);
    ::_exit(77);
  }
  return true;  // other errors (ENOMEM...) are the tests' to report
}();

}  // namespace
