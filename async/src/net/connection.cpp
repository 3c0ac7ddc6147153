#include "aio/net/connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "aio/detail/loop_core.hpp"
#include "aio/net/resolver.hpp"
#include "aio/net/sock.hpp"
#include "net_context.hpp"
#include "socket_util.hpp"
#include "stream_transport.hpp"

namespace aio {
namespace detail {
namespace {

StreamTransport* adopt(int fd, StreamTransport::Kind kind, std::size_t limit) {
  FdGuard guard(fd);
  auto* t = new StreamTransport(running_loop(), fd, kind, limit);
  guard.release();
  return t;
}

// Connects a new socket to `addr`; returns it connected. Throws: the
// connect's (or socket's) std::system_error; the socket is closed then.
Task<int> connect_to(SockAddr addr) {
  FdGuard fd(make_socket(addr.family(), SOCK_STREAM));
  set_nodelay(fd.get(), addr.family());
  co_await sock_connect(fd.get(), addr);
  co_return fd.release();
}

}  // namespace

StreamPair adopt_stream_socket(int fd, std::size_t limit) {
  StreamTransport* t = adopt(fd, StreamTransport::Kind::socket, limit);
  return StreamPair{StreamReader(t), StreamWriter(t)};
}

StreamReader pipe_reader(int fd, std::size_t limit) {
  return StreamReader(adopt(fd, StreamTransport::Kind::pipe_in, limit));
}

StreamWriter pipe_writer(int fd) { return StreamWriter(adopt(fd, StreamTransport::Kind::pipe_out, 64 * 1024)); }

}  // namespace detail

Task<StreamPair> open_connection(std::string host, int port, ConnectOptions options) {
  detail::net_context(detail::running_loop());  // a kernel without the ops fails here, before any lookup
  const std::vector<SockAddr> addrs = co_await getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM);
  std::exception_ptr last;
  for (const SockAddr& a : addrs) {
    int fd = -1;
    try {
      fd = co_await detail::connect_to(a);
    } catch (const std::system_error&) {
      last = std::current_exception();  // the next address may work
      continue;
    }
    co_return detail::adopt_stream_socket(fd, options.limit);
  }
  if (last) std::rethrow_exception(last);
  throw std::system_error(EADDRNOTAVAIL, std::system_category(), "aio::open_connection: no address for " + host);
}

Task<StreamPair> open_unix_connection(std::string path, ConnectOptions options) {
  const SockAddr addr = SockAddr::unix_path(path);
  const int fd = co_await detail::connect_to(addr);
  co_return detail::adopt_stream_socket(fd, options.limit);
}

}  // namespace aio
