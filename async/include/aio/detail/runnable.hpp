#pragma once
// The loop's ready queue: an intrusive FIFO, so scheduling never allocates.

namespace aio::detail {

/// An entry of the ready queue: a task step or a callback.
struct Runnable {
  enum class Action : unsigned char {
    run,   ///< do the work (must not throw)
    drop,  ///< the loop is closing and will never run it: release what it owns
    // A task's typed operations, dispatched through the same pointer:
    harvest,  ///< the root coroutine finished: move its outcome into the state
    destroy,  ///< the last reference went: delete the state
  };
  using Perform = void (*)(Runnable* self, Action action) noexcept;

  Runnable* next_ready = nullptr;
  Perform perform = nullptr;
};

/// FIFO of runnables. An entry is in at most one queue, at most once.
class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }

  void push(Runnable* r) noexcept {
    r->next_ready = nullptr;
    *tail_ = r;
    tail_ = &r->next_ready;
  }

  /// Detaches every entry queued so far, in order; entries pushed while the
  /// caller walks the returned list go to the next batch.
  Runnable* take_all() noexcept {
    Runnable* batch = head_;
    head_ = nullptr;
    tail_ = &head_;
    return batch;
  }

 private:
  Runnable* head_ = nullptr;
  Runnable** tail_ = &head_;
};

}  // namespace aio::detail
