#include "aio/net/datagram.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "aio/detail/loop_core.hpp"
#include "aio/errors.hpp"
#include "net_context.hpp"
#include "socket_util.hpp"

namespace aio {

namespace {
constexpr std::size_t kMaxDatagram = 64 * 1024;
}  // namespace

Task<Datagram> DatagramEndpoint::recvfrom() {
  if (fd_ < 0) throw RuntimeError("aio::DatagramEndpoint: closed");
  // The buffer is lent to this frame for the await: the kernel writes into
  // memory the awaiting frame owns (as with any IoOp), and a concurrent
  // recvfrom finds none and makes its own.
  std::unique_ptr<char[]> buf = rbuf_ ? std::move(rbuf_) : std::make_unique_for_overwrite<char[]>(kMaxDatagram);
  detail::RecvMsgOp op(fd_, {reinterpret_cast<std::byte*>(buf.get()), kMaxDatagram});
  std::size_t got = 0;
  try {
    got = co_await op;
  } catch (...) {
    if (!rbuf_) rbuf_ = std::move(buf);
    throw;
  }
  Datagram d{std::string(buf.get(), got), op.from()};
  if (!rbuf_) rbuf_ = std::move(buf);
  co_return d;
}

Task<> DatagramEndpoint::sendto(std::string_view data, std::optional<SockAddr> addr) {
  if (fd_ < 0) throw RuntimeError("aio::DatagramEndpoint: closed");
  detail::SendMsgOp op(fd_, detail::as_bytes(data), addr ? &*addr : nullptr);
  co_await op;
}

SockAddr DatagramEndpoint::get_extra_info(std::string_view name) const {
  const bool peer = name == "peername";
  if ((!peer && name != "sockname") || fd_ < 0) return {};
  SockAddr a;
  socklen_t len = SockAddr::capacity();
  if ((peer ? ::getpeername(fd_, a.data(), &len) : ::getsockname(fd_, a.data(), &len)) != 0) return {};
  a.resize(len);
  return a;
}

void DatagramEndpoint::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Task<DatagramEndpoint> create_datagram_endpoint(DatagramOptions options) {
  detail::net_context(detail::running_loop());
  int family = AF_INET;
  if (options.local_addr) family = options.local_addr->family();
  if (options.remote_addr) {
    if (options.local_addr && options.remote_addr->family() != family) {
      throw ValueError("create_datagram_endpoint: local_addr and remote_addr families differ");
    }
    family = options.remote_addr->family();
  }
  detail::FdGuard fd(detail::make_socket(family, SOCK_DGRAM));
  const int one = 1;
  if (options.reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw std::system_error(errno, std::system_category(), "aio: setsockopt(SO_REUSEPORT)");
  }
  if (options.local_addr && ::bind(fd.get(), options.local_addr->data(), options.local_addr->size()) != 0) {
    detail::throw_socket_error(errno, "aio: bind", *options.local_addr);
  }
  if (options.remote_addr && ::connect(fd.get(), options.remote_addr->data(), options.remote_addr->size()) != 0) {
    detail::throw_socket_error(errno, "aio: connect", *options.remote_addr);
  }
  co_return DatagramEndpoint(fd.release());
}

}  // namespace aio
