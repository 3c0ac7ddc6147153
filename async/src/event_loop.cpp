#include "aio/event_loop.hpp"

#include <cstdio>
#include <exception>
#include <iostream>

#include "driver.hpp"

namespace aio {

EventLoop::EventLoop(LoopOptions options) : core_(options, this) {
  if (options.dump_tasks_on != 0) {
    // A failure here destroys core_, which closes the ring.
    detail::add_signal_handler(core_, options.dump_tasks_on, [this] { dump_tasks(std::cerr); }, false);
  }
}

EventLoop::~EventLoop() {
  if (core_.is_running()) {
    std::fputs("aio: fatal: an EventLoop was destroyed while running\n", stderr);
    std::terminate();
  }
  try {
    core_.close();
  } catch (const std::exception& e) {
    // Never terminate from a destructor: the operations in flight may still
    // write into the loop's frames and ring, so all of it is leaked.
    std::fprintf(stderr, "aio: ~EventLoop: %s; the loop's memory and ring are leaked\n", e.what());
    core_.leak();
  }
}

std::string EventLoop::ring_flags() const {
  if (!core_.has_driver()) return "closed";
  return uring::Ring::describe_flags(core_.driver().ring.setup_flags());
}

EventLoop& get_running_loop() { return detail::running_loop().owner(); }

}  // namespace aio
