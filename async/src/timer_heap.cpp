#include "aio/detail/timer_heap.hpp"

namespace aio::detail {

std::int64_t TimerHeap::earliest() const noexcept {
  // The run's ends never hold tombstones (run_trim), so its front is live.
  if (run_empty()) return heap_.front().deadline;
  if (heap_.empty()) return run_.front().deadline;
  const Entry& a = run_.front();
  return before(a, heap_.front()) ? a.deadline : heap_.front().deadline;
}

void TimerHeap::push(TimerNode* node) {
  Entry e{node->deadline, next_seq_++, node};
  if (run_empty() || run_.back().deadline <= e.deadline) {
    run_push(e);
  } else {
    heap_.push_back(e);  // first: it may throw, with nothing changed yet
    node->where = TimerNode::Where::heap;
    sift_up(heap_.size() - 1, e);
  }
  ++live_;
}

void TimerHeap::run_push(const Entry& e) {
  run_.push_back(e);
  e.node->where = TimerNode::Where::run;
  e.node->index = run_base_ + static_cast<std::uint32_t>(run_.size() - 1);
}

void TimerHeap::run_trim() noexcept {
  while (!run_.empty() && run_.front().node == nullptr) {
    run_.pop_front();
    ++run_base_;
  }
  while (!run_.empty() && run_.back().node == nullptr) run_.pop_back();
  // Tombstones left in the middle (timers removed out of order, e.g.
  // wait_for deadlines whose inner won, behind one that is still waiting):
  // once they are most of the run, drop them all, so the run stays within
  // twice the live timers (amortised O(1) a removal).
  const std::size_t run_live = live_ - heap_.size();
  if (run_.size() > 64 && run_.size() > 2 * run_live) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < run_.size(); ++i) {
      if (run_[i].node == nullptr) continue;
      run_[kept] = run_[i];
      run_[kept].node->index = run_base_ + static_cast<std::uint32_t>(kept);
      ++kept;
    }
    run_.resize(kept);
  }
}

void TimerHeap::remove(TimerNode* node) noexcept {
  const TimerNode::Where where = node->where;
  node->where = TimerNode::Where::none;
  --live_;
  if (where == TimerNode::Where::run) {
    run_at(node->index).node = nullptr;
    run_trim();
  } else {
    heap_remove_at(node->index);
  }
}

TimerNode* TimerHeap::pop_due(std::int64_t now) noexcept {
  if (live_ == 0) return nullptr;
  const bool from_run = !run_empty() && (heap_.empty() || before(run_.front(), heap_.front()));
  TimerNode* node;
  if (from_run) {
    const Entry& e = run_.front();
    if (e.deadline > now) return nullptr;
    node = e.node;
    run_.pop_front();
    ++run_base_;
    run_trim();
  } else {
    if (heap_.front().deadline > now) return nullptr;
    node = heap_.front().node;
    heap_remove_at(0);
  }
  node->where = TimerNode::Where::none;
  --live_;
  return node;
}

void TimerHeap::heap_remove_at(std::size_t i) noexcept {
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

void TimerHeap::sift_up(std::size_t i, Entry e) noexcept {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 4;
    if (!before(e, heap_[parent])) break;
    heap_place(i, heap_[parent]);
    i = parent;
  }
  heap_place(i, e);
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
    heap_place(i, heap_[best]);
    i = best;
  }
  heap_place(i, e);
}

}  // namespace aio::detail
