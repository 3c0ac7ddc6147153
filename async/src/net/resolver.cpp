#include "aio/net/resolver.hpp"

#include <netdb.h>

#include <cerrno>
#include <memory>

#include "aio/to_thread.hpp"

namespace aio {
namespace {

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return gai_strerror(code); }
};

std::vector<SockAddr> blocking_lookup(const std::string& host, int port, int family, int type) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = type;
  hints.ai_flags = AI_ADDRCONFIG | (host.empty() ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc == EAI_SYSTEM) throw std::system_error(errno, std::system_category(), "getaddrinfo(" + host + ")");
  if (rc != 0) throw std::system_error(rc, gai_category(), "getaddrinfo(" + host + ")");
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, ::freeaddrinfo);
  std::vector<SockAddr> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    SockAddr a(ai->ai_addr, ai->ai_addrlen);
    bool seen = false;
    for (const SockAddr& b : out) seen = seen || b == a;
    if (!seen) out.push_back(a);
  }
  return out;
}

}  // namespace

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

Task<std::vector<SockAddr>> getaddrinfo(std::string host, int port, int family, int type) {
  if (port < 0 || port > 65535) throw ValueError("port out of range 0-65535: " + std::to_string(port));
  if (!host.empty()) {
    try {
      SockAddr a = SockAddr::inet(host, port);
      if (family == AF_UNSPEC || family == a.family()) co_return std::vector<SockAddr>{a};
    } catch (const ValueError&) {
      // a name: resolved below
    }
  } else {
    // No lookup for the wildcard addresses: answered from the flags alone.
    co_return blocking_lookup(host, port, family, type);
  }
  co_return co_await to_thread(blocking_lookup, std::move(host), port, family, type);
}

}  // namespace aio
