#include "aio/net/sock.hpp"

namespace aio {

Task<std::string> sock_recv(int fd, std::size_t n) {
  std::string out(n, '\0');
  const std::size_t got = co_await sock_recv_into(fd, std::as_writable_bytes(std::span(out)));
  out.resize(got);
  co_return out;
}

Task<> sock_sendall(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const std::size_t sent = co_await detail::SendOp(fd, data);
    data = data.subspan(sent);
  }
}

Task<Datagram> sock_recvfrom(int fd, std::size_t n) {
  std::string buf(n, '\0');
  detail::RecvMsgOp op(fd, std::as_writable_bytes(std::span(buf)));
  const std::size_t got = co_await op;
  buf.resize(got);
  co_return Datagram{std::move(buf), op.from()};
}

}  // namespace aio
