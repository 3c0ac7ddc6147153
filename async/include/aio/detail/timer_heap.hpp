#pragma once
// The loop's timers, ordered by (deadline, start order) so that equal
// deadlines fire in the order they were started.
//
// Most timers arrive in deadline order (sleeps of one duration started one
// after the other, wait_for deadlines), so they go to a sorted FIFO run:
// O(1) to add, to remove (a tombstone) and to pop. A timer that would break
// the run's order goes to a 4-ary min-heap: O(log n) to add and remove.

#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <ratio>
#include <vector>

namespace aio::detail {

/// `d` in nanoseconds, rounded up (a timer never fires early), clamped to
/// the int64 range: a duration too long to represent means "never", not an
/// overflow (e.g. `sleep(std::chrono::hours::max())`).
template <class Rep, class Period>
constexpr std::int64_t to_ns_ceil(std::chrono::duration<Rep, Period> d) noexcept {
  using Wide = std::chrono::duration<long double, std::nano>;
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const Wide wide(d);
  if (wide >= Wide(static_cast<long double>(max))) return max;
  if (wide <= Wide(static_cast<long double>(min))) return min;
  return std::chrono::ceil<std::chrono::nanoseconds>(d).count();
}

/// `now + ns`, saturated at the largest deadline instead of overflowing.
constexpr std::int64_t deadline_after(std::int64_t now, std::int64_t ns) noexcept {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  return ns > max - now ? max : now + ns;
}

struct TimerNode {
  enum class Action : bool { fire, drop };
  enum class Where : std::uint8_t { none, run, heap };

  std::int64_t deadline = 0;  ///< CLOCK_MONOTONIC nanoseconds
  /// `fire`: the deadline passed (must not throw). `drop`: the loop is
  /// closing; release what the node owns.
  void (*on_due)(TimerNode* self, Action action) noexcept = nullptr;
  std::uint32_t index = 0;  ///< position in the run (absolute) or in the heap
  Where where = Where::none;
  // 3 bytes of tail padding here: a derived awaiter's first small member fits in.

  bool queued() const noexcept { return where != Where::none; }
};

class TimerHeap {
 public:
  TimerHeap() = default;
  TimerHeap(const TimerHeap&) = delete;
  TimerHeap& operator=(const TimerHeap&) = delete;

  bool empty() const noexcept { return live_ == 0; }
  std::size_t size() const noexcept { return live_; }
  /// Entries held, tombstones included (at most about twice size()).
  std::size_t footprint() const noexcept { return run_.size() + heap_.size(); }
  /// Earliest deadline; only when not empty.
  std::int64_t earliest() const noexcept;

  void push(TimerNode* node);
  void remove(TimerNode* node) noexcept;
  /// Removes and returns the earliest timer if its deadline is <= now.
  TimerNode* pop_due(std::int64_t now) noexcept;
  /// Empties the structure, marking every node not queued, then calls f(node) on each.
  template <class F>
  void drain(F&& f) {
    std::vector<TimerNode*> nodes;
    nodes.reserve(live_);
    for (const Entry& e : run_) {
      if (e.node != nullptr) nodes.push_back(e.node);
    }
    for (const Entry& e : heap_) nodes.push_back(e.node);
    run_.clear();
    heap_.clear();
    live_ = 0;
    for (TimerNode* n : nodes) n->where = TimerNode::Where::none;
    for (TimerNode* n : nodes) f(n);
  }

 private:
  struct Entry {
    std::int64_t deadline;
    std::uint64_t seq;
    TimerNode* node;  // null: a tombstone (run only)
  };
  static bool before(const Entry& a, const Entry& b) noexcept {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.seq < b.seq);
  }

  // -- the sorted run: a deque (it grows by blocks, never by copying the
  // whole run), indexed by absolute uint32 positions
  Entry& run_at(std::uint32_t pos) noexcept { return run_[pos - run_base_]; }
  bool run_empty() const noexcept { return run_.empty(); }
  void run_push(const Entry& e);
  void run_trim() noexcept;  // drop tombstones at both ends

  // -- the heap
  void heap_place(std::size_t i, const Entry& e) noexcept {
    heap_[i] = e;
    e.node->index = static_cast<std::uint32_t>(i);
  }
  void heap_remove_at(std::size_t i) noexcept;
  void sift_up(std::size_t i, Entry e) noexcept;
  void sift_down(std::size_t i, Entry e) noexcept;

  std::deque<Entry> run_;
  std::uint32_t run_base_ = 0;  // absolute position of run_.front()
  std::vector<Entry> heap_;
  std::size_t live_ = 0;
  std::uint64_t next_seq_ = 0;
};

}  // namespace aio::detail
