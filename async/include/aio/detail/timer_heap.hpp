#pragma once
// The loop's timers: a 4-ary min-heap keyed by (deadline, start order), so
// that adding and removing a timer are O(log n) and equal deadlines fire in
// the order they were started.

#include <cstdint>
#include <vector>

namespace aio::detail {

struct TimerNode {
  static constexpr std::uint32_t kNotQueued = UINT32_MAX;
  enum class Action : bool { fire, drop };

  std::int64_t deadline = 0;  ///< CLOCK_MONOTONIC nanoseconds
  std::uint32_t heap_index = kNotQueued;
  /// `fire`: the deadline passed (must not throw). `drop`: the loop is
  /// closing; release what the node owns.
  void (*on_due)(TimerNode* self, Action action) noexcept = nullptr;

  bool queued() const noexcept { return heap_index != kNotQueued; }
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  /// Earliest deadline; only when not empty.
  std::int64_t earliest() const noexcept { return heap_.front().deadline; }

  void push(TimerNode* node);
  void remove(TimerNode* node) noexcept;
  /// Removes and returns the earliest timer if its deadline is <= now.
  TimerNode* pop_due(std::int64_t now) noexcept;
  /// Empties the heap; every node is marked not queued.
  template <class F>
  void drain(F&& f) {
    std::vector<Entry> entries;
    entries.swap(heap_);
    for (Entry& e : entries) e.node->heap_index = TimerNode::kNotQueued;
    for (Entry& e : entries) f(e.node);
  }

 private:
  struct Entry {
    std::int64_t deadline;
    std::uint64_t seq;
    TimerNode* node;
  };
  static bool before(const Entry& a, const Entry& b) noexcept {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.seq < b.seq);
  }
  void place(std::size_t i, const Entry& e) noexcept {
    heap_[i] = e;
    e.node->heap_index = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i, Entry e) noexcept;
  void sift_down(std::size_t i, Entry e) noexcept;

  std::vector<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace aio::detail
