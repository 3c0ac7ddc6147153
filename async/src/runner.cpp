#include "aio/runner.hpp"

#include <cstdio>
#include <exception>

namespace aio {

Runner::Runner(LoopOptions options) : loop_(std::move(options)) {}

Runner::~Runner() {
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio::Runner: close() failed in the destructor: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "aio::Runner: close() failed in the destructor\n");
  }
  // What close() could not do, ~EventLoop reports and leaks safely.
}

EventLoop& Runner::get_loop() {
  if (closed_) throw RuntimeError("Runner is closed");
  return loop_;
}

void Runner::close() {
  if (closed_) return;
  if (loop_.is_running()) throw RuntimeError("Runner.close() cannot be called while its loop runs");
  closed_ = true;
  try {
    detail::core_of(loop_).cancel_remaining();  // asyncio's _cancel_all_tasks
  } catch (...) {
    loop_.close();
    throw;
  }
  loop_.close();
}

}  // namespace aio
