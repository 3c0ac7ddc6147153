#pragma once
// aio::SockAddr: an IPv4, IPv6 or Unix socket address.

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace aio {

/// A socket address (what asyncio passes as a (host, port) tuple or a path).
/// Cheap to copy; an empty one has family() == AF_UNSPEC.
class SockAddr {
 public:
  SockAddr() noexcept = default;
  /// Copies `len` bytes of `addr` (at most sizeof(sockaddr_storage)).
  SockAddr(const sockaddr* addr, socklen_t len) noexcept;

  /// "127.0.0.1:8080", "[::1]:8080", or a Unix socket path ("/run/x.sock",
  /// anything containing a '/'; "@name" is the abstract namespace). Numeric
  /// hosts only: names are resolved by aio::getaddrinfo.
  /// Throws: ValueError naming the text when it is none of these.
  static SockAddr parse(std::string_view text);
  /// An IPv4 or IPv6 address from a numeric host ("::1", "10.0.0.1") and a port.
  /// Throws: ValueError when `host` is not numeric or `port` not in 0..65535.
  static SockAddr inet(std::string_view host, int port);
  /// A Unix socket address. Throws: ValueError when the path is too long.
  static SockAddr unix_path(std::string_view path);

  /// "127.0.0.1:8080", "[::1]:8080", the Unix path; "" when empty.
  std::string to_string() const;
  /// The host part alone ("127.0.0.1", "::1"), or the Unix path.
  std::string host() const;
  /// The port, 0 for a Unix or empty address.
  int port() const noexcept;
  /// AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC when empty.
  int family() const noexcept { return storage_.ss_family; }
  bool empty() const noexcept { return len_ == 0; }

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  /// For a call that fills the address in (accept, recvfrom): the capacity,
  /// then `resize` to what the kernel wrote.
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
  void resize(socklen_t len) noexcept { len_ = len > capacity() ? capacity() : len; }

  friend bool operator==(const SockAddr& a, const SockAddr& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace aio
