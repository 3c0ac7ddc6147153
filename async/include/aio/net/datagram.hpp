#pragma once
// aio::DatagramEndpoint: loop.create_datagram_endpoint, awaitable in the
// streams' style instead of a Protocol class.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "aio/net/sock.hpp"
#include "aio/net/sock_addr.hpp"
#include "aio/task.hpp"

namespace aio {

struct DatagramOptions {
  std::optional<SockAddr> local_addr;   ///< bound to (port 0: any free port)
  std::optional<SockAddr> remote_addr;  ///< connected to: sendto() without an address goes there
  bool reuse_port = false;              ///< SO_REUSEPORT
};

/// A UDP (or Unix datagram) socket. Move-only; destroying it closes it.
/// Every await: Throws: std::system_error with the errno; RuntimeError once
/// closed. Cancel safety: as sock_recvfrom / sock_sendto.
class DatagramEndpoint {
 public:
  DatagramEndpoint() noexcept = default;
  explicit DatagramEndpoint(int fd) noexcept : fd_(fd) {}
  DatagramEndpoint(DatagramEndpoint&& o) noexcept : fd_(std::exchange(o.fd_, -1)), rbuf_(std::move(o.rbuf_)) {}
  DatagramEndpoint& operator=(DatagramEndpoint&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      rbuf_ = std::move(o.rbuf_);
    }
    return *this;
  }
  ~DatagramEndpoint() { close(); }

  /// The next datagram (up to 64 KiB) and its sender. Received into one
  /// buffer the endpoint keeps (made at the first call, never zeroed); only
  /// the datagram's bytes are copied out. Concurrent calls each get a
  /// datagram of their own (the second one a buffer of its own).
  Task<Datagram> recvfrom();
  /// Sends `data` as one datagram to `addr`, or to the connected peer.
  /// `data` must stay valid until the await ends.
  Task<> sendto(std::string_view data, std::optional<SockAddr> addr = {});
  /// "sockname" or "peername"; an empty SockAddr otherwise.
  SockAddr get_extra_info(std::string_view name) const;
  /// Closes the socket. Call it with no recvfrom/sendto pending (they hold
  /// the descriptor in the kernel). Idempotent.
  void close() noexcept;
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  std::unique_ptr<char[]> rbuf_;  // the receive buffer, lent to one recvfrom at a time
};

/// Creates the endpoint (loop.create_datagram_endpoint). The family comes
/// from the addresses (IPv4 when neither is given).
/// Throws: std::system_error (address_in_use, ...); ValueError when the two
/// addresses' families differ.
Task<DatagramEndpoint> create_datagram_endpoint(DatagramOptions options);

}  // namespace aio
