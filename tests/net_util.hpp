#pragma once
// Helpers for the networking tests: open descriptors counted, a loopback
// echo server, a raw blocking socket pair.

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <aio/aio.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

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

/// Runs one empty loop on this thread. A closed loop leaves its ring (a ring
/// fd and the loop's wake eventfd) cached for the next loop: a test that
/// counts descriptors around a loop's life calls this first, so that the
/// cache is not counted as a leak when the test runs alone.
inline void warm_ring_cache() {
  aio::run([]() -> aio::Task<> { co_return; }());
}

/// The highest descriptor number open in this process.
inline int highest_fd() {
  int high = -1;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    const int own = ::dirfd(d);
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const int fd = std::atoi(e->d_name);
      if (fd != own && fd > high) high = fd;
    }
    ::closedir(d);
  }
  return high;
}

/// Fills the descriptor table exactly: the soft RLIMIT_NOFILE is lowered to
/// just above the highest open descriptor and every free number below it
/// (fd numbers have holes) is taken by a dup of /dev/null, so the next
/// descriptor anyone asks for (socket(), the kernel's accept) fails with
/// EMFILE. `leave_free` slots are left for the caller's next descriptors.
/// release() (or the destructor) frees them and restores the limit.
class FullFdTable {
 public:
  explicit FullFdTable(std::size_t leave_free = 0) {
    ::getrlimit(RLIMIT_NOFILE, &old_);
    const int spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (spare < 0) return;
    fds_.push_back(spare);
    rlimit rl = old_;
    rl.rlim_cur = static_cast<rlim_t>(highest_fd()) + 8;
    if (rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    limited_ = true;
    for (;;) {
      const int fd = ::fcntl(spare, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        full_ = errno == EMFILE;
        break;
      }
      fds_.push_back(fd);
    }
    for (; leave_free > 0 && fds_.size() > 1; --leave_free) {
      ::close(fds_.back());
      fds_.pop_back();
    }
  }
  FullFdTable(const FullFdTable&) = delete;
  FullFdTable& operator=(const FullFdTable&) = delete;
  ~FullFdTable() { release(); }

  /// Every number below the limit was taken (the last dup failed with EMFILE),
  /// but for the `leave_free` asked for.
  bool full() const noexcept { return full_; }
  void release() noexcept {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    if (limited_) ::setrlimit(RLIMIT_NOFILE, &old_);
    limited_ = false;
    full_ = false;
  }

 private:
  rlimit old_{};
  std::vector<int> fds_;
  bool limited_ = false;
  bool full_ = false;
};

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
