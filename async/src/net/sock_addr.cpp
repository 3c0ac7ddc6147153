#include "aio/net/sock_addr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "aio/errors.hpp"
#include "aio/net/stream_errors.hpp"

namespace aio {

SockAddr::SockAddr(const sockaddr* addr, socklen_t len) noexcept {
  resize(len);
  std::memcpy(&storage_, addr, len_);
}

SockAddr SockAddr::inet(std::string_view host, int port) {
  if (port < 0 || port > 65535) throw ValueError("port out of range 0-65535: " + std::to_string(port));
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    a.len_ = sizeof(sockaddr_in);
    return a;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    a.len_ = sizeof(sockaddr_in6);
    return a;
  }
  throw ValueError("not a numeric IPv4 or IPv6 address: '" + h + "'");
}

SockAddr SockAddr::unix_path(std::string_view path) {
  SockAddr a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  if (path.empty() || path.size() >= sizeof un->sun_path) {
    throw ValueError("Unix socket path must be 1-" + std::to_string(sizeof un->sun_path - 1) +
                     " bytes: '" + std::string(path) + "'");
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  if (path.front() == '@') {
    un->sun_path[0] = '\0';  // the abstract namespace: no trailing NUL counted
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  } else {
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  return a;
}

SockAddr SockAddr::parse(std::string_view text) {
  if (text.find('/') != std::string_view::npos || (!text.empty() && text.front() == '@')) {
    return unix_path(text);
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    throw ValueError("not an address of the form host:port, [v6]:port or a path: '" + std::string(text) + "'");
  }
  std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos && !(host.size() > 2 && host.front() == '[')) {
    throw ValueError("an IPv6 address needs brackets, as in [::1]:8080: '" + std::string(text) + "'");
  }
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) throw ValueError("bad port in '" + std::string(text) + "'");
    port = port * 10 + (c - '0');
  }
  return inet(host, port);
}

std::string SockAddr::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET:
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
      return buf;
    case AF_INET6:
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
      return buf;
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      const std::size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
      if (n == 0) return {};  // unnamed (a client socket)
      if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
      return std::string(un->sun_path, strnlen(un->sun_path, n));
    }
    default:
      return {};
  }
}

int SockAddr::port() const noexcept {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

std::string SockAddr::to_string() const {
  switch (family()) {
    case AF_INET:
      return host() + ":" + std::to_string(port());
    case AF_INET6:
      return "[" + host() + "]:" + std::to_string(port());
    default:
      return host();
  }
}

bool operator==(const SockAddr& a, const SockAddr& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

IncompleteReadError::IncompleteReadError(std::string partial, std::size_t expected)
    : std::runtime_error(std::to_string(partial.size()) + " bytes read on a total of " +
                         (expected == 0 ? std::string("undefined") : std::to_string(expected)) +
                         " expected bytes"),
      partial_(std::move(partial)),
      expected_(expected) {}

}  // namespace aio
