#pragma once
// Small socket helpers shared by connections, servers and datagram
// endpoints. Internal.

#include <sys/socket.h>

#include <string>

#include "aio/net/sock_addr.hpp"

namespace aio::detail {

/// A new close-on-exec socket. Throws: std::system_error (EMFILE is
/// std::errc::too_many_files_open).
int make_socket(int family, int type);
/// TCP_NODELAY on an IPv4/IPv6 stream socket (asyncio sets it on every TCP connection).
void set_nodelay(int fd, int family) noexcept;
/// Throws std::system_error(errno) with "what (address)".
[[noreturn]] void throw_socket_error(int err, const std::string& what, const SockAddr& addr);

/// Closes a descriptor when it goes out of scope, unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) noexcept : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard();
  int get() const noexcept { return fd_; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace aio::detail
