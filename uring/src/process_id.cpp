#include "aio/uring/process_id.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

namespace aio::uring {
namespace {

std::atomic<pid_t> g_pid{0};

void refresh_in_child() noexcept { g_pid.store(::getpid(), std::memory_order_relaxed); }

}  // namespace

pid_t process_id() noexcept {
  pid_t p = g_pid.load(std::memory_order_relaxed);
  if (p != 0) return p;
  static const int registered = ::pthread_atfork(nullptr, nullptr, &refresh_in_child);
  (void)registered;
  p = ::getpid();
  g_pid.store(p, std::memory_order_relaxed);
  return p;
}

}  // namespace aio::uring
