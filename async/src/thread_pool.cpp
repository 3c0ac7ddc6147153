#include "thread_pool.hpp"

#include <algorithm>

#include "aio/detail/remote_queue.hpp"

namespace aio::detail {

ThreadPool::ThreadPool(RemoteQueue& done) : done_(done) {
  // Python's ThreadPoolExecutor default: min(32, cpu_count + 4); at least 4
  // so that a few blocking calls overlap even where the count is unknown.
  const std::size_t cores = std::thread::hardware_concurrency();
  max_threads_ = std::max<std::size_t>(4, std::min<std::size_t>(32, cores + 4));
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::submit(JobBase* job) {
  std::lock_guard lock(mutex_);
  queue_.push_back(job);
  ++queued_;
  if (queued_ <= idle_) {
    wake_.notify_one();
    return;
  }
  if (threads_.size() >= max_threads_) return;  // a busy worker takes it later
  try {
    threads_.emplace_back([this] { work(); });
  } catch (...) {
    if (!threads_.empty()) return;  // the workers we have will get to it
    job->unlink();
    --queued_;
    throw;
  }
}

bool ThreadPool::withdraw(JobBase* job) noexcept {
  std::lock_guard lock(mutex_);
  if (!job->linked()) return false;  // a worker has it (or had it)
  job->unlink();
  --queued_;
  return true;
}

void ThreadPool::work() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    while (queue_.empty() && !stopping_) {
      ++idle_;
      wake_.wait(lock);
      --idle_;
    }
    JobBase* job = queue_.pop_front();
    if (job == nullptr) return;  // stopping, nothing left
    --queued_;
    lock.unlock();
    job->run();
    // Accepted: the loop closes its queue only after joining the workers.
    done_.post(job);
    lock.lock();
  }
}

void ThreadPool::shutdown() noexcept {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    // Jobs nobody picked up are handed back unrun: LoopCore::close then
    // frees them with the frames of their tasks (the awaiter gives the job
    // up, and the dropped post frees it as an orphan).
    while (JobBase* job = queue_.pop_front()) {
      --queued_;
      done_.post(job);
    }
    threads.swap(threads_);
    wake_.notify_all();
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace aio::detail
