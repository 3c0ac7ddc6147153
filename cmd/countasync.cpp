// countasync.py of the asyncio tutorial:
//
//   async def count():
//       print("One")
//       await asyncio.sleep(1)
//       print("Two")
//
//   async def main():
//       await asyncio.gather(count(), count(), count())

#include <chrono>
#include <cstdio>

#include "aio/aio.hpp"
#include "scenarios.hpp"

using namespace std::chrono_literals;

namespace demo {
namespace {

aio::Task<> count() {
  std::puts("One");
  co_await aio::sleep(1s);
  std::puts("Two");
}

aio::Task<> main_gathered() { co_await aio::gather(count(), count(), count()); }

aio::Task<> main_serial() {
  for (int i = 0; i < 3; ++i) co_await count();
}

}  // namespace

Scenario countasync_scenario() {
  return {"countasync", "three count() coroutines gathered: One x3, then Two x3 after 1 s",
          [](CLI::App& app) -> std::function<int()> {
            auto serial = std::make_shared<bool>(false);
            app.add_flag("--serial", *serial, "await the three count() one after the other (3 s)");
            return [serial] {
              const auto start = std::chrono::steady_clock::now();
              aio::run(*serial ? main_serial() : main_gathered());
              const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
              std::printf("countasync executed in %0.2f seconds.\n", elapsed.count());
              return 0;
            };
          }};
}

}  // namespace demo
