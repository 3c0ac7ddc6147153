#include "aio/detail/timer_heap.hpp"

namespace aio::detail {

void TimerHeap::push(TimerNode* node) {
  Entry e{node->deadline, next_seq_++, node};
  heap_.push_back(e);
  sift_up(heap_.size() - 1, e);
}

void TimerHeap::remove(TimerNode* node) noexcept {
  const std::size_t i = node->heap_index;
  node->heap_index = TimerNode::kNotQueued;
  Entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // it was the last entry
  // The moved entry may belong above or below the hole.
  if (i > 0 && before(last, heap_[(i - 1) / 4])) {
    sift_up(i, last);
  } else {
    sift_down(i, last);
  }
}

TimerNode* TimerHeap::pop_due(std::int64_t now) noexcept {
  if (heap_.empty() || heap_.front().deadline > now) return nullptr;
  TimerNode* node = heap_.front().node;
  node->heap_index = TimerNode::kNotQueued;
  Entry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0, last);
  return node;
}

void TimerHeap::sift_up(std::size_t i, Entry e) noexcept {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 4;
    if (!before(e, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void TimerHeap::sift_down(std::size_t i, Entry e) noexcept {
  const std::size_t n = heap_.size();
  for (;;) {
    const std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t last = first + 4 < n ? first + 4 : n;
    for (std::size_t c = first + 1; c < last; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], e)) break;
    place(i, heap_[best]);
    i = best;
  }
  place(i, e);
}

}  // namespace aio::detail
