#pragma once
// A doubly linked intrusive list: waiters and tasks link themselves in, so
// waiting never allocates and leaving the list is O(1).

namespace aio::detail {

struct ListHook {
  ListHook* prev = nullptr;
  ListHook* next = nullptr;

  bool linked() const noexcept { return next != nullptr; }
  void unlink() noexcept {
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

/// Circular list around a sentinel; T derives from ListHook. Not movable: the
/// sentinel's address is part of the ring. Destroying the list unlinks what is
/// left, so an entry's later `unlink()` check stays safe.
template <class T>
class IntrusiveList {
 public:
  IntrusiveList() noexcept { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  ~IntrusiveList() { clear(); }

  bool empty() const noexcept { return head_.next == &head_; }

  T* front() noexcept { return empty() ? nullptr : static_cast<T*>(head_.next); }

  void push_back(T* node) noexcept {
    ListHook* n = node;
    n->prev = head_.prev;
    n->next = &head_;
    head_.prev->next = n;
    head_.prev = n;
  }

  T* pop_front() noexcept {
    if (empty()) return nullptr;
    ListHook* n = head_.next;
    n->unlink();
    return static_cast<T*>(n);
  }

  /// Unlinks every entry without notifying it.
  void clear() noexcept {
    while (!empty()) head_.next->unlink();
  }

  /// Calls f(T*) on each entry; f may unlink the entry it is given.
  template <class F>
  void for_each(F&& f) {
    for (ListHook* n = head_.next; n != &head_;) {
      ListHook* next = n->next;
      f(static_cast<T*>(n));
      n = next;
    }
  }

 private:
  ListHook head_;
};

}  // namespace aio::detail
