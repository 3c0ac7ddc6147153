#pragma once
// Helpers shared by the tests: a pipe that closes itself, a stopwatch, a
// capture of stderr, the calling thread's CPU time.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>

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

/// Redirects file descriptor 2 (stderr) into a temporary file until text()
/// or destruction, so that what the library prints can be checked.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    if (file_ == nullptr) throw std::runtime_error("tmpfile");
    saved_ = ::dup(2);
    ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() {
    restore();
    std::fclose(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  /// Everything written so far; capturing goes on.
  std::string peek() const {
    std::fflush(stderr);
    std::string out;
    char buf[512];
    ssize_t n;
    // pread: fd 2 shares the file's offset, which must stay at the end.
    while ((n = ::pread(::fileno(file_), buf, sizeof buf, static_cast<off_t>(out.size()))) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  /// Stops capturing and returns everything written meanwhile.
  std::string text() {
    restore();
    return peek();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::FILE* file_ = nullptr;
  int saved_ = -1;
};

/// CPU time (user + system) the calling thread has used, in milliseconds.
inline double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace test
