#include "socket_util.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace aio::detail {

int make_socket(int family, int type) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "aio: socket()");
  return fd;
}

void set_nodelay(int fd, int family) noexcept {
  if (family != AF_INET && family != AF_INET6) return;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void throw_socket_error(int err, const std::string& what, const SockAddr& addr) {
  throw std::system_error(err, std::system_category(), what + " (" + addr.to_string() + ")");
}

FdGuard::~FdGuard() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace aio::detail
