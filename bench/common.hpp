#pragma once
// Helpers shared by the benchmarks: a clock, a lateness histogram that needs
// no memory per sample, peak RSS, and checks that abort a run whose work was
// not all done (a benchmark that skipped work must not report a figure).

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace bench {

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Aborts the benchmark run: the workload did not do what it defines.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "benchmark check failed: %s\n", what);
  std::abort();
}
inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

/// Peak resident set of the process (getrusage's ru_maxrss, what
/// /usr/bin/time -v reports), in bytes.
inline double peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) * 1024.0;
}

/// Log-linear histogram of non-negative nanosecond values: 32 sub-buckets
/// per power of two (about 3% resolution), fixed size, so recording a
/// million samples adds no memory per sample.
class Histogram {
 public:
  void record(std::int64_t ns) noexcept {
    if (ns < 0) ns = 0;  // cannot happen for a sleep (never early); counted as 0
    ++buckets_[index(static_cast<std::uint64_t>(ns))];
    ++count_;
  }
  std::uint64_t count() const noexcept { return count_; }
  /// The value below which a fraction `q` of the samples lie (upper bound of its bucket).
  double quantile(double q) const noexcept {
    const auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= target && buckets_[i] != 0) return upper(i);
    }
    return 0;
  }

 private:
  static constexpr int kSub = 32;
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int top = 63 - __builtin_clzll(v);  // >= 5
    const int shift = top - 5;
    return static_cast<std::size_t>((shift + 1) * kSub + static_cast<int>((v >> shift) - kSub));
  }
  static double upper(std::size_t i) noexcept {
    if (i < kSub) return static_cast<double>(i);
    const int shift = static_cast<int>(i / kSub) - 1;
    const auto sub = static_cast<std::uint64_t>(i % kSub) + kSub;
    return static_cast<double>(((sub + 1) << shift) - 1);
  }

  std::array<std::uint64_t, 64 * kSub> buckets_{};
  std::uint64_t count_ = 0;
};

}  // namespace bench
