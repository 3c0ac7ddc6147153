// An asynchronous context manager, the tutorial's `async with` example:
//
//   class AsyncContextManager:
//       async def __aenter__(self):
//           print("__aenter__: Setting up resource1")
//       async def __aexit__(self, exc_type, exc, tb):
//           print("__aexit__: Cleaning up resource1")
//
//   print("This should be printed before the __aenter__")
//   async with AsyncContextManager() as resource:
//       print("Using resource1 => This should be printed after __aenter__ and before __aexit__")
//   print("This should be printed after the __aexit__")

#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>

#include "aio/aio.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

struct AsyncContextManager {
  aio::Task<> aenter() {
    std::puts("__aenter__: Setting up resource1");
    co_return;
  }
  aio::Task<bool> aexit(std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::printf("__aexit__: got the exception: %s\n", ex.what());
      }
    }
    std::puts("__aexit__: Cleaning up resource1");
    co_return false;
  }
};

aio::Task<> main_(bool raise) {
  std::puts("This should be printed before the __aenter__");
  try {
    co_await aio::async_with(AsyncContextManager{}, [raise](AsyncContextManager&) -> aio::Task<> {
      std::puts("Using resource1 => This should be printed after __aenter__ and before __aexit__");
      if (raise) throw std::runtime_error("raised inside the async with body");
      co_return;
    });
  } catch (const std::runtime_error& e) {
    std::printf("Caught after __aexit__: %s\n", e.what());
  }
  std::puts("This should be printed after the __aexit__");
}

}  // namespace

Scenario async_context_scenario() {
  return {"async-context", "an async context manager (aenter/aexit) used through aio::async_with",
          [](CLI::App& app) -> std::function<int()> {
            auto raise = std::make_shared<bool>(false);
            app.add_flag("--raise", *raise, "throw inside the body: aexit still runs and receives it");
            return [raise] {
              aio::run(main_(*raise));
              return 0;
            };
          }};
}

}  // namespace demo
