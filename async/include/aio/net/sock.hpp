#pragma once
// loop.sock_*: socket operations on a descriptor the caller owns, one
// io_uring operation each (sock_sendall and sock_recv are small coroutines
// over them).

#include <sys/socket.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "aio/detail/io_op.hpp"
#include "aio/net/sock_addr.hpp"
#include "aio/task.hpp"

namespace aio {

/// What sock_accept returns: the new connection's descriptor (the caller
/// owns it; close-on-exec) and the peer's address.
struct AcceptResult {
  int fd = -1;
  SockAddr addr;
};

/// A datagram and where it came from (sock_recvfrom, DatagramEndpoint::recvfrom).
struct Datagram {
  std::string data;
  SockAddr from;
};

namespace detail {

class [[nodiscard]] AcceptOp final : public IoOp {
 public:
  explicit AcceptOp(int fd) noexcept : fd_(fd) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  AcceptResult await_resume() {
    AcceptResult r;
    r.fd = result("aio::sock_accept");
    addr_.resize(len_);
    r.addr = addr_;
    return r;
  }

 private:
  static void prep(AcceptOp* self, io_uring_sqe* sqe) noexcept;  // ops/accept.cpp
  int fd_;
  socklen_t len_ = SockAddr::capacity();
  SockAddr addr_;
};

class [[nodiscard]] ConnectOp final : public IoOp {
 public:
  ConnectOp(int fd, const SockAddr& addr) noexcept : fd_(fd), addr_(addr) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  void await_resume() const { result("aio::sock_connect"); }

 private:
  static void prep(ConnectOp* self, io_uring_sqe* sqe) noexcept;  // ops/connect.cpp
  int fd_;
  SockAddr addr_;  // the kernel reads it when the op is issued
};

class [[nodiscard]] RecvOp final : public IoOp {
 public:
  RecvOp(int fd, std::span<std::byte> buf) noexcept : fd_(fd), buf_(buf) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::sock_recv")); }

 private:
  static void prep(RecvOp* self, io_uring_sqe* sqe) noexcept;  // ops/recv.cpp
  int fd_;
  std::span<std::byte> buf_;
};

class [[nodiscard]] SendOp final : public IoOp {
 public:
  SendOp(int fd, std::span<const std::byte> buf) noexcept : fd_(fd), buf_(buf) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::sock_sendall")); }

 private:
  static void prep(SendOp* self, io_uring_sqe* sqe) noexcept;  // ops/send.cpp (MSG_NOSIGNAL)
  int fd_;
  std::span<const std::byte> buf_;
};

/// recvmsg(2) with the source address: sock_recvfrom, DatagramEndpoint.
class [[nodiscard]] RecvMsgOp final : public IoOp {
 public:
  RecvMsgOp(int fd, std::span<std::byte> buf) noexcept;
  RecvMsgOp(RecvMsgOp&& other) noexcept : RecvMsgOp(other.fd_, other.buf_) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  /// The byte count; `from()` then holds the sender.
  std::size_t await_resume() {
    const int n = result("aio::sock_recvfrom");
    from_.resize(msg_.msg_namelen);
    return static_cast<std::size_t>(n);
  }
  const SockAddr& from() const noexcept { return from_; }
  /// The datagram was longer than the buffer (MSG_TRUNC): the rest is lost.
  bool truncated() const noexcept { return (msg_.msg_flags & MSG_TRUNC) != 0; }

 private:
  static void prep(RecvMsgOp* self, io_uring_sqe* sqe) noexcept;  // ops/recvmsg.cpp
  int fd_;
  std::span<std::byte> buf_;
  iovec iov_{};
  msghdr msg_{};
  SockAddr from_;
};

/// sendmsg(2) to an address (null: the connected peer): sock_sendto, DatagramEndpoint.
class [[nodiscard]] SendMsgOp final : public IoOp {
 public:
  SendMsgOp(int fd, std::span<const std::byte> buf, const SockAddr* to) noexcept;
  SendMsgOp(SendMsgOp&& other) noexcept
      : SendMsgOp(other.fd_, other.buf_, other.to_.empty() ? nullptr : &other.to_) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::sock_sendto")); }

 private:
  static void prep(SendMsgOp* self, io_uring_sqe* sqe) noexcept;  // ops/sendmsg.cpp (MSG_NOSIGNAL)
  int fd_;
  std::span<const std::byte> buf_;
  SockAddr to_;
  iovec iov_{};
  msghdr msg_{};
};

inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace detail

// Each call below is one io_uring operation (sock_recv and sock_sendall:
// coroutines over them) on a socket the caller owns, blocking or not.
// Throws: std::system_error with the errno (std::errc::connection_refused,
// connection_reset, broken_pipe, ...); RuntimeError outside a running task.
// No call raises SIGPIPE (sends use MSG_NOSIGNAL).
// Cancel safety: as aio::read: the operation is cancelled with
// IORING_OP_ASYNC_CANCEL and CancelledError thrown; if it completed first,
// its result is returned (no byte is lost) and the cancellation is delivered
// at the next suspending await. sock_sendall: cancelled between two sends,
// some bytes may have been sent.

/// Accepts a connection on the listening socket `fd` (loop.sock_accept).
inline detail::AcceptOp sock_accept(int fd) noexcept { return detail::AcceptOp(fd); }

/// Connects `fd` to `addr` (loop.sock_connect): refused is
/// std::errc::connection_refused.
inline detail::ConnectOp sock_connect(int fd, const SockAddr& addr) noexcept { return {fd, addr}; }

/// Receives up to `buf.size()` bytes; returns the count, 0 when the peer
/// closed its side (loop.sock_recv_into).
inline detail::RecvOp sock_recv_into(int fd, std::span<std::byte> buf) noexcept { return {fd, buf}; }

/// Receives up to `n` bytes (loop.sock_recv); "" when the peer closed its side.
Task<std::string> sock_recv(int fd, std::size_t n);

/// Sends all of `data`, in as many sends as it takes (loop.sock_sendall).
/// `data` must stay valid until the await ends.
Task<> sock_sendall(int fd, std::span<const std::byte> data);
inline Task<> sock_sendall(int fd, std::string_view data) { return sock_sendall(fd, detail::as_bytes(data)); }

/// Receives one datagram of at most `n` bytes and its sender (loop.sock_recvfrom).
Task<Datagram> sock_recvfrom(int fd, std::size_t n);

/// Sends `data` as one datagram to `addr` (loop.sock_sendto); returns the bytes sent.
/// `data` and `addr` are copied into the operation (the address) or must stay
/// valid until the await ends (the data).
inline detail::SendMsgOp sock_sendto(int fd, std::string_view data, const SockAddr& addr) noexcept {
  return {fd, detail::as_bytes(data), &addr};
}

}  // namespace aio
