#pragma once
// aio::Queue, aio::LifoQueue, aio::PriorityQueue: asyncio.Queue and its
// subclasses, with Python 3.13's shutdown().

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"

namespace aio {

namespace detail {

// -- Storage: which item get() takes. `give_back` is where the item of a
// getter that was handed it and then cancelled goes: it was put before every
// item stored since (it was handed over because the queue was empty).

/// FIFO (Queue) or LIFO (LifoQueue) storage. The given-back item is the
/// oldest either way: it goes to the front, which a FIFO pops first and a
/// LIFO last.
template <class T, bool Lifo>
class DequeStorage {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& x) { items_.push_back(std::move(x)); }
  T pop() {
    T& next = Lifo ? items_.back() : items_.front();
    T x = std::move(next);
    if constexpr (Lifo) {
      items_.pop_back();
    } else {
      items_.pop_front();
    }
    return x;
  }
  void give_back(T&& x) { items_.push_front(std::move(x)); }
  void clear() noexcept { items_.clear(); }

 private:
  std::deque<T> items_;
};

template <class T, class Compare>
class HeapStorage {
 public:
  explicit HeapStorage(Compare comp) : comp_(std::move(comp)) {}
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& x) {
    items_.push_back(std::move(x));
    std::push_heap(items_.begin(), items_.end(), greater());
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), greater());
    T x = std::move(items_.back());
    items_.pop_back();
    return x;
  }
  void give_back(T&& x) { push(std::move(x)); }
  void clear() noexcept { items_.clear(); }

 private:
  // std's heap keeps the largest on top; heapq's order is smallest first.
  auto greater() {
    return [this](const T& a, const T& b) { return comp_(b, a); };
  }

  std::vector<T> items_;
  Compare comp_;
};

/// The queue machinery shared by Queue, LifoQueue and PriorityQueue.
///
/// Waiters are served strictly first come, first served, without a second
/// trip through the loop:
/// - put() with a getter waiting hands the item to that getter (the queue is
///   empty whenever a getter waits);
/// - get() that frees a slot while putters wait reserves the slot for the
///   first of them: the queue stays full() until that putter runs and adds
///   its item, so no later put() or put_nowait() can take the slot.
/// A getter cancelled after it was handed an item passes the item to the next
/// getter, or back to the queue as the next item out. A putter cancelled after
/// it got a slot passes the slot to the next putter and adds nothing.
template <class T, class Storage>
class BasicQueue {
 public:
  using value_type = T;

  BasicQueue(std::size_t maxsize, Storage storage) : storage_(std::move(storage)), maxsize_(maxsize) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  class [[nodiscard]] GetAwaiter : public Waiter {
   public:
    explicit GetAwaiter(BasicQueue& q) noexcept : Waiter(&give_back), q_(q) {}

    bool await_ready() const noexcept { return !q_.storage_.empty() || q_.shutdown_; }
    void await_suspend(std::coroutine_handle<> h) { park_in(q_.getters_, h); }
    T await_resume() {
      if (suspended()) {
        throw_if_cancelled();
        if (item_.has_value()) {
          T x = std::move(*item_);
          item_.reset();
          return x;
        }
        // Woken by shutdown(): QueueShutDown, unless a cancelled getter gave
        // an item back since.
      }
      return q_.get_nowait();
    }

   private:
    friend class BasicQueue;
    static void give_back(Waiter* w) noexcept {
      auto* self = static_cast<GetAwaiter*>(w);
      if (!self->item_.has_value()) return;  // woken by shutdown(): nothing to pass on
      self->q_.give_back(std::move(*self->item_));
      self->item_.reset();
    }

    BasicQueue& q_;
    std::optional<T> item_;  // handed over by put()
  };

  class [[nodiscard]] PutAwaiter : public Waiter {
   public:
    PutAwaiter(BasicQueue& q, T&& item) : Waiter(&give_back), q_(q), item_(std::move(item)) {}

    bool await_ready() const noexcept { return q_.shutdown_ || !q_.full(); }
    void await_suspend(std::coroutine_handle<> h) { park_in(q_.putters_, h); }
    void await_resume() {
      if (suspended()) {
        throw_if_cancelled();
        release_slot();  // woken with a reserved slot (or by shutdown(): none)
      }
      if (q_.shutdown_) {
        q_.admit_putters();
        throw QueueShutDown();
      }
      q_.insert(std::move(item_));
      q_.admit_putters();  // the item went to a getter: the slot is still free
    }

   private:
    friend class BasicQueue;
    void release_slot() noexcept {
      if (!reserved_) return;
      reserved_ = false;
      --q_.reserved_;
    }
    static void give_back(Waiter* w) noexcept {
      auto* self = static_cast<PutAwaiter*>(w);
      if (!self->reserved_) return;
      self->release_slot();
      self->q_.admit_putters();
    }

    BasicQueue& q_;
    T item_;
    bool reserved_ = false;  // a get() reserved a slot for this putter
  };

  /// Removes and returns an item, waiting until one is available (asyncio
  /// Queue.get). Getters are served in the order they started waiting.
  /// Throws: QueueShutDown once the queue is shut down and empty (at once
  /// after shutdown(true)); CancelledError if cancelled while waiting.
  /// Cancel safety: safe. A cancelled get() removes no item; if it was
  /// already handed one and is cancelled before it resumed, the item goes to
  /// the next waiting getter, or back to the queue as the next item out.
  GetAwaiter get() noexcept { return GetAwaiter(*this); }

  /// Removes and returns an item if one is available at once (asyncio
  /// Queue.get_nowait). A getter already waiting is ahead of this call.
  /// Throws: QueueEmpty if no item is available; QueueShutDown if the queue
  /// is shut down and empty.
  T get_nowait() {
    if (storage_.empty()) {
      if (shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    T x = storage_.pop();
    admit_putters();
    return x;
  }

  /// Adds `item`, waiting while the queue is full (asyncio Queue.put).
  /// Putters are served in the order they started waiting.
  /// Throws: QueueShutDown after shutdown(), at once or when a waiting put is
  /// woken by it (the item is not added); CancelledError if cancelled while
  /// waiting.
  /// Cancel safety: safe. A cancelled put() adds nothing; if a slot was
  /// already reserved for it, the slot goes to the next waiting putter.
  PutAwaiter put(T item) { return PutAwaiter(*this, std::move(item)); }

  /// Adds `item` if there is room at once (asyncio Queue.put_nowait).
  /// Throws: QueueFull if the queue is full (a putter that waits is ahead of
  /// this call); QueueShutDown after shutdown().
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) throw QueueFull();
    insert(std::move(item));
  }

  /// Marks one item taken by get() as processed (asyncio Queue.task_done);
  /// join() returns when every item put was marked so.
  /// Throws: ValueError if called more times than items were put.
  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) joiners_.wake_all();
  }

  /// Waits until every item put has been marked processed by task_done()
  /// (asyncio Queue.join); returns at once if none is unfinished.
  /// Throws: CancelledError if cancelled while waiting.
  /// Cancel safety: safe; nothing is consumed.
  SignalAwaiter join() noexcept { return SignalAwaiter(joiners_, &all_done, this); }

  /// Shuts the queue down (asyncio Queue.shutdown, Python 3.13): put() and
  /// put_nowait() throw QueueShutDown from now on, and waiting putters are
  /// woken to throw it. get() goes on returning the items left and throws
  /// QueueShutDown once the queue is empty; waiting getters (the queue is
  /// empty) are woken to throw it. With `immediate`, the items left are
  /// dropped and counted as processed for join(), and get() throws at once.
  /// A getter that was already handed an item keeps it.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      immediate_ = true;
      const std::size_t dropped = storage_.size();
      storage_.clear();
      unfinished_ -= std::min(dropped, unfinished_);
      if (unfinished_ == 0) joiners_.wake_all();
    }
    getters_.wake_all();
    putters_.wake_all();
  }

  /// Number of items in the queue (items handed to a waiting getter are not).
  std::size_t qsize() const noexcept { return storage_.size(); }
  bool empty() const noexcept { return storage_.empty(); }
  /// No room for a put() that does not wait: maxsize() items, counting the
  /// slots reserved for woken putters. Never true if maxsize() is 0.
  bool full() const noexcept { return maxsize_ > 0 && storage_.size() + reserved_ >= maxsize_; }
  /// Number of items allowed in the queue; 0: unbounded.
  std::size_t maxsize() const noexcept { return maxsize_; }

 private:
  // join()'s question, asked when it is awaited.
  static bool all_done(const void* self) noexcept { return static_cast<const BasicQueue*>(self)->unfinished_ == 0; }

  // Adds an item: to the first waiting getter, else to the storage.
  void insert(T&& x) {
    if (GetAwaiter* g = getters_.front()) {
      g->item_.emplace(std::move(x));
      g->wake();
    } else {
      storage_.push(std::move(x));
    }
    ++unfinished_;
  }

  // A cancelled getter's item: the next getter's, or the next out. After an
  // immediate shutdown it is dropped, as the items in the queue were. The
  // storage may hold more than maxsize() items for a while (slots were taken
  // meanwhile); full() stays true until it is below again.
  void give_back(T&& x) noexcept {
    if (immediate_) {
      if (unfinished_ > 0 && --unfinished_ == 0) joiners_.wake_all();
    } else if (GetAwaiter* g = getters_.front()) {
      g->item_.emplace(std::move(x));
      g->wake();
    } else {
      storage_.give_back(std::move(x));
    }
  }

  // Reserves the free slots for the putters that wait longest, and wakes them.
  void admit_putters() noexcept {
    while (!full()) {
      PutAwaiter* p = putters_.front();
      if (p == nullptr) break;
      p->reserved_ = true;
      ++reserved_;
      p->wake();
    }
  }

  Storage storage_;
  WaiterList<GetAwaiter> getters_;
  WaiterList<PutAwaiter> putters_;
  WaiterList<> joiners_;
  std::size_t maxsize_;
  std::size_t reserved_ = 0;    // slots reserved for woken putters
  std::size_t unfinished_ = 0;  // items put and not yet marked task_done()
  bool shutdown_ = false;
  bool immediate_ = false;
};

}  // namespace detail

/// A first in, first out queue for tasks of one loop (asyncio.Queue).
///
/// `maxsize` 0 means unbounded; otherwise put() waits while maxsize() items
/// are queued. Items may be move-only. Waiting getters and putters are served
/// first come, first served. Not thread-safe: use it from its loop's thread.
template <class T>
class Queue : public detail::BasicQueue<T, detail::DequeStorage<T, false>> {
 public:
  explicit Queue(std::size_t maxsize = 0)
      : detail::BasicQueue<T, detail::DequeStorage<T, false>>(maxsize, {}) {}
};

/// A last in, first out queue (asyncio.LifoQueue); otherwise as Queue.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::DequeStorage<T, true>> {
 public:
  explicit LifoQueue(std::size_t maxsize = 0)
      : detail::BasicQueue<T, detail::DequeStorage<T, true>>(maxsize, {}) {}
};

/// A priority queue (asyncio.PriorityQueue): get() returns the smallest item
/// by `Compare` (std::less: smallest first, as heapq); otherwise as Queue.
/// Items that compare equal come out in no particular order.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStorage<T, Compare>> {
 public:
  explicit PriorityQueue(std::size_t maxsize = 0, Compare comp = Compare())
      : detail::BasicQueue<T, detail::HeapStorage<T, Compare>>(
            maxsize, detail::HeapStorage<T, Compare>(std::move(comp))) {}
};

}  // namespace aio
