#pragma once
// Helpers shared by the tests: a pipe that closes itself, a stopwatch.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace test {

/// Ends the test as skipped (CTest's SKIP_RETURN_CODE 77): a missing kernel
/// feature is a skip, never a pass.
[[noreturn]] inline void skip(const char* why) {
  std::fprintf(stderr, "SKIPPED: %s\n", why);
  std::fflush(nullptr);
  std::_Exit(77);
}

struct Pipe {
  int r = -1;
  int w = -1;
  explicit Pipe(int flags = 0) {
    int fds[2];
    if (::pipe2(fds, flags) != 0) throw std::runtime_error("pipe2");
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  void put(char c = 'x') const {
    if (::write(w, &c, 1) != 1) throw std::runtime_error("write");
  }
  /// Bytes waiting in the pipe (non-blocking read of everything).
  std::size_t drain() const {
    const int fl = ::fcntl(r, F_GETFL);
    ::fcntl(r, F_SETFL, fl | O_NONBLOCK);
    std::size_t n = 0;
    char buf[256];
    for (;;) {
      const ssize_t got = ::read(r, buf, sizeof buf);
      if (got <= 0) break;
      n += static_cast<std::size_t>(got);
    }
    ::fcntl(r, F_SETFL, fl);
    return n;
  }
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  std::chrono::nanoseconds elapsed() const { return std::chrono::steady_clock::now() - start_; }
  double ms() const { return std::chrono::duration<double, std::milli>(elapsed()).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace test
