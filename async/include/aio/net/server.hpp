#pragma once
// aio::start_server / start_unix_server and aio::Server: asyncio's servers.

#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "aio/detail/waiter_list.hpp"
#include "aio/net/sock_addr.hpp"
#include "aio/net/streams.hpp"
#include "aio/task.hpp"

namespace aio {

struct ServerOptions {
  int backlog = 100;        ///< listen(2)'s backlog (asyncio's default)
  bool reuse_port = false;  ///< SO_REUSEPORT: several servers share the port
  std::size_t limit = 64 * 1024;  ///< each connection's StreamReader limit
};

/// The callback a server runs for each connection, in a task of its own.
using ClientConnected = std::function<Task<>(StreamReader, StreamWriter)>;

namespace detail {
class ServerState;  // async/src/net/server_state.hpp
}

/// asyncio.Server: listening sockets accepting connections (a multishot
/// accept each). Move-only; destroying it closes it (connections go on).
class Server {
 public:
  Server() noexcept = default;
  explicit Server(detail::ServerState* s) noexcept : s_(s) {}
  Server(Server&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Server& operator=(Server&& o) noexcept;
  ~Server();

  /// Accepts until the server is closed, then throws CancelledError (as
  /// asyncio's serve_forever). Cancelling the awaiting task closes the
  /// server and waits until it is closed, then throws CancelledError.
  /// Throws: RuntimeError if already serving forever, or closed.
  Task<> serve_forever();
  /// Stops listening and closes the listening sockets (a Unix server
  /// removes its socket file). Connections stay open. Idempotent.
  void close();
  /// Waits until the server is closed and every connection it accepted has
  /// ended (asyncio 3.12.1+). Cancel safety: safe.
  [[nodiscard]] detail::SignalAwaiter wait_closed() noexcept;
  /// close() every connection (flushing) / abort() every connection.
  void close_clients();
  void abort_clients();
  bool is_serving() const noexcept;
  /// The listening addresses (with the ports chosen for port 0).
  std::vector<SockAddr> sockets() const;
  /// The first listening socket's port.
  int port() const;
  /// Connections accepted and not ended yet.
  std::size_t connections() const noexcept;

  /// `co_await aio::async_with(server, body)`: the body runs, then the
  /// server is closed and waited for.
  Task<> aenter();
  Task<bool> aexit(std::exception_ptr e);

 private:
  detail::ServerState* s_ = nullptr;
};

/// Listens on `host`:`port` and runs `cb(reader, writer)` in a new task for
/// each connection (asyncio.start_server); serving starts at once. An empty
/// host listens on every interface (0.0.0.0 and ::); port 0 picks a free
/// port (`port()`). SO_REUSEADDR, backlog 100, TCP_NODELAY on every
/// connection. A callback that throws is reported on stderr and its
/// connection closed; one that returns leaves the connection to the handles
/// it kept (closed when the last goes).
/// Accepting that fails for want of resources (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM) is reported once on stderr and paused for 1 s; waiting
/// connections stay in the backlog and are accepted afterwards.
/// Throws: std::system_error: std::errc::address_in_use, the resolver's
/// error, EACCES for a privileged port.
template <class F>
  requires std::invocable<F&, StreamReader, StreamWriter>
Task<Server> start_server(F cb, std::string host, int port, ServerOptions options = {});

/// As start_server, on the Unix socket `path` (asyncio.start_unix_server):
/// a stale socket file there is replaced; the file is removed at close().
template <class F>
  requires std::invocable<F&, StreamReader, StreamWriter>
Task<Server> start_unix_server(F cb, std::string path, ServerOptions options = {});

namespace detail {
Task<Server> start_tcp_server(ClientConnected cb, std::string host, int port, ServerOptions options);
Task<Server> start_unix_server(ClientConnected cb, std::string path, ServerOptions options);
}  // namespace detail

template <class F>
  requires std::invocable<F&, StreamReader, StreamWriter>
Task<Server> start_server(F cb, std::string host, int port, ServerOptions options) {
  return detail::start_tcp_server(ClientConnected(std::move(cb)), std::move(host), port, options);
}

template <class F>
  requires std::invocable<F&, StreamReader, StreamWriter>
Task<Server> start_unix_server(F cb, std::string path, ServerOptions options) {
  return detail::start_unix_server(ClientConnected(std::move(cb)), std::move(path), options);
}

}  // namespace aio
