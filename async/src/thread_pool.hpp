#pragma once
// The worker threads behind aio::to_thread. Internal.

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "aio/detail/intrusive_list.hpp"
#include "aio/to_thread.hpp"

namespace aio::detail {

class RemoteQueue;

/// A small pool of worker threads owned by one loop (Python's default
/// executor): threads are started on demand, up to a limit, and stay until
/// shutdown(). A worker runs a job, then posts it to the loop's RemoteQueue,
/// which wakes the loop through its ring. Workers never touch the loop
/// otherwise.
class ThreadPool {
 public:
  explicit ThreadPool(RemoteQueue& done);
  ~ThreadPool();  // shutdown()
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues `job`; starts a worker if none is idle and the limit allows.
  /// Throws: std::system_error when no worker exists and none can be started
  /// (the job is not queued then).
  void submit(JobBase* job);
  /// Takes `job` back if no worker has picked it up yet (it never runs).
  bool withdraw(JobBase* job) noexcept;
  /// Waits for the jobs being run (each is posted to the loop as usual) and
  /// joins every worker. Jobs still queued are posted to the loop unrun.
  /// Idempotent.
  void shutdown() noexcept;

 private:
  void work() noexcept;

  RemoteQueue& done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  IntrusiveList<JobBase> queue_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  std::size_t queued_ = 0;
  std::size_t max_threads_;
  bool stopping_ = false;
};

}  // namespace aio::detail
