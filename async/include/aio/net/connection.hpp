#pragma once
// aio::open_connection / open_unix_connection: asyncio's client streams.

#include <cstddef>
#include <string>

#include "aio/net/streams.hpp"
#include "aio/task.hpp"

namespace aio {

struct ConnectOptions {
  /// The StreamReader's buffer limit (asyncio's `limit`, 64 KiB).
  std::size_t limit = 64 * 1024;
};

/// Connects to `host`:`port` over TCP and returns the connection's reader
/// and writer (asyncio.open_connection). A name is resolved with
/// aio::getaddrinfo (on a worker thread; a numeric host is not looked up);
/// the addresses are tried in order until one connects. TCP_NODELAY is set.
/// Throws: std::system_error: std::errc::connection_refused when nothing
/// listens (the last address's error when all fail), too_many_files_open
/// when no descriptor is left, the resolver's error for an unknown host.
/// No descriptor is left open by a failed call.
/// Cancel safety: cancelling abandons the attempt and closes its socket.
Task<StreamPair> open_connection(std::string host, int port, ConnectOptions options = {});

/// Connects to the Unix socket at `path` (asyncio.open_unix_connection).
/// Throws: std::system_error (ENOENT: no such socket; connection_refused:
/// nobody listens); ValueError for a path too long.
Task<StreamPair> open_unix_connection(std::string path, ConnectOptions options = {});

namespace detail {
/// A reader/writer pair over the connected socket `fd`, which it takes over
/// (closed if this throws). Throws: std::system_error when the kernel lacks
/// an operation networking needs; std::bad_alloc.
StreamPair adopt_stream_socket(int fd, std::size_t limit);
/// The reading (`reading`) or writing end of a pipe as a StreamReader or
/// StreamWriter (subprocess pipes); takes over `fd`.
StreamReader pipe_reader(int fd, std::size_t limit = 64 * 1024);
StreamWriter pipe_writer(int fd);
}  // namespace detail

}  // namespace aio
