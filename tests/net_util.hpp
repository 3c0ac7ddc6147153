#pragma once
// Helpers for the networking tests: open descriptors counted, a loopback
// echo server, a raw blocking socket pair.

#include <dirent.h>
#include <sys/resource.h>

#include <aio/aio.hpp>
#include <cstddef>
#include <string>

namespace test {

/// Descriptors open in this process (entries of /proc/self/fd).
inline std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n - 1;  // the directory's own descriptor
}

/// The asyncio documentation's echo handler: a line in, the line back.
inline aio::Task<> echo_lines(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

/// Echoes every byte back until EOF, in chunks as they come.
inline aio::Task<> echo_bytes(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    std::string chunk = co_await reader.read(65536);
    if (chunk.empty()) break;
    writer.write(chunk);
    co_await writer.drain();
  }
  writer.close();
}

/// A deterministic byte pattern, so that a lost, duplicated or reordered
/// byte shows.
inline std::string pattern(std::size_t n, std::size_t seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed * 13 + i / 26) % 26);
  return s;
}

/// Raises the soft descriptor limit to `n` (at most the hard limit); returns the old.
inline rlim_t raise_nofile(rlim_t n) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  const rlim_t old = rl.rlim_cur;
  rl.rlim_cur = n < rl.rlim_max ? n : rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  return old;
}

}  // namespace test
