#include "aio/detail/remote_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "aio/uring/process_id.hpp"

namespace aio::detail {
namespace {

// The eventfd kept with the thread's cached ring (LoopOptions::reuse_ring).
struct CachedWakeFd {
  int fd = -1;
  pid_t pid = 0;
  int take() noexcept {
    const int f = pid == uring::process_id() ? fd : -1;
    if (f < 0 && fd >= 0) ::close(fd);  // a forked child's copy
    fd = -1;
    return f;
  }
  void put(int f) noexcept {
    if (fd >= 0) ::close(fd);
    fd = f;
    pid = uring::process_id();
  }
  ~CachedWakeFd() {
    if (fd >= 0) ::close(fd);
  }
};
thread_local CachedWakeFd tls_wake_fd;

}  // namespace

void RemoteQueue::open(bool reuse) {
  if (reuse) wake_fd_ = tls_wake_fd.take();
  if (wake_fd_ >= 0) return;
  // Blocking: it is only read through the ring, and io_uring completes a
  // read of an O_NONBLOCK file that has no data with -EAGAIN at once on
  // kernels whose eventfd lacks FMODE_NOWAIT (the idle loop would spin).
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    throw std::system_error(errno, std::system_category(),
                            "aio: eventfd for the loop's wake-ups (call_soon_threadsafe)");
  }
}

RemoteQueue::~RemoteQueue() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool RemoteQueue::post(Runnable* r) noexcept {
  r->next_ready = nullptr;
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  *tail_ = r;
  tail_ = &r->next_ready;
  pending_.store(true, std::memory_order_release);
  if (waiting_) {
    // Written under the lock: close() cannot close (and the process reuse)
    // the descriptor between the decision and the write.
    waiting_ = false;
    const std::uint64_t one = 1;
    ssize_t n;
    do {
      n = ::write(wake_fd_, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    // EAGAIN (the counter at its maximum) cannot happen: the loop's read
    // resets it. Anything else would be a bug we cannot report from here.
  }
  return true;
}

void RemoteQueue::take_into(ReadyQueue& ready) noexcept {
  Runnable* list;
  {
    std::lock_guard lock(mutex_);
    list = head_;
    head_ = nullptr;
    tail_ = &head_;
    pending_.store(false, std::memory_order_relaxed);
  }
  while (list != nullptr) {
    Runnable* next = list->next_ready;
    ready.push(list);
    list = next;
  }
}

int RemoteQueue::begin_wait() noexcept {
  std::lock_guard lock(mutex_);
  if (head_ != nullptr) return -1;
  waiting_ = true;
  return wake_fd_;
}

void RemoteQueue::end_wait() noexcept {
  std::lock_guard lock(mutex_);
  waiting_ = false;
}

Runnable* RemoteQueue::close(bool reuse) noexcept {
  std::lock_guard lock(mutex_);
  closed_ = true;
  waiting_ = false;
  if (wake_fd_ >= 0) {
    if (reuse) {
      tls_wake_fd.put(wake_fd_);
    } else {
      ::close(wake_fd_);
    }
    wake_fd_ = -1;
  }
  Runnable* list = head_;
  head_ = nullptr;
  tail_ = &head_;
  pending_.store(false, std::memory_order_relaxed);
  return list;
}

}  // namespace aio::detail
