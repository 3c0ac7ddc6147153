// no-io-uring ENOSYS|EPERM program [args...]: runs `program` with a seccomp
// filter that makes io_uring_setup fail with that errno, as on a kernel
// without io_uring (ENOSYS) or with it disabled (kernel.io_uring_disabled,
// a container policy: EPERM). Used to check that aio-demo says so in one
// line and exits 1, and that the test suite reports its cases as skipped.

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3 || (std::strcmp(argv[1], "ENOSYS") != 0 && std::strcmp(argv[1], "EPERM") != 0)) {
    std::fprintf(stderr, "usage: no-io-uring ENOSYS|EPERM program [args...]\n");
    return 2;
  }
  const unsigned err = std::strcmp(argv[1], "ENOSYS") == 0 ? ENOSYS : EPERM;
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    std::perror("no-io-uring: seccomp");
    return 77;
  }
  execv(argv[2], argv + 2);
  std::perror("no-io-uring: exec");
  return 127;
}
