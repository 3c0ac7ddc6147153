// The common mistake: a blocking call inside a coroutine holds the whole loop.
//
//   async def task():
//       print("Start")
//       time.sleep(3)          # blocks the event loop
//       print("End")
//
//   async def main():
//       await asyncio.gather(task(), task())   # Start End Start End: 6 s
//
// --debug turns on the loop's debug mode, which names the task that held the
// loop. --fixed shows the two remedies: aio::sleep (the wait belongs to the
// loop) and aio::to_thread (the blocking call moves to a worker thread).

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "aio/aio.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

using seconds = std::chrono::duration<double>;

aio::Task<> blocking_task(seconds s) {
  std::puts("Start");
  std::this_thread::sleep_for(s);  // the mistake
  std::puts("End");
  co_return;
}

aio::Task<> sleeping_task(seconds s) {
  std::puts("Start");
  co_await aio::sleep(s);
  std::puts("End");
}

aio::Task<> threaded_task(seconds s) {
  std::puts("Start");
  co_await aio::to_thread([s] { std::this_thread::sleep_for(s); });
  std::puts("End");
}

template <class F>
aio::Task<> gather_two(F task, seconds s) {
  // Unnamed, as in the Python original: Task-2 and Task-3 (main is Task-1).
  auto t1 = aio::create_task(task(s));
  auto t2 = aio::create_task(task(s));
  co_await aio::gather(t1, t2);
}

template <class F>
void timed(F task, seconds s, bool debug) {
  const auto start = std::chrono::steady_clock::now();
  aio::LoopOptions options;
  options.debug = debug;
  aio::run(gather_two(task, s), options);
  const seconds took = std::chrono::steady_clock::now() - start;
  std::printf("Time taken: %0.2f seconds\n", took.count());
  std::fflush(stdout);
}

}  // namespace

Scenario blocking_scenario() {
  return {"blocking", "a blocking sleep inside a coroutine holds the loop: Start End Start End in 6 s",
          [](CLI::App& app) -> std::function<int()> {
            auto secs = std::make_shared<double>(3.0);
            auto debug = std::make_shared<bool>(false);
            auto fixed = std::make_shared<bool>(false);
            app.add_option("--seconds", *secs, "how long each task blocks")
                ->check(CLI::NonNegativeNumber)
                ->capture_default_str();
            app.add_flag("--debug", *debug, "debug mode: report the task that held the loop (on stderr)");
            app.add_flag("--fixed", *fixed, "show the remedies: aio::sleep and aio::to_thread");
            return [secs, debug, fixed] {
              const seconds s(*secs);
              if (!*fixed) {
                timed(blocking_task, s, *debug);
                return 0;
              }
              std::puts("With aio::sleep:");
              timed(sleeping_task, s, *debug);
              std::puts("With aio::to_thread:");
              timed(threaded_task, s, *debug);
              return 0;
            };
          }};
}

}  // namespace demo
