// asyncio.wait_for, from the asyncio documentation:
//
//   async def eternity():
//       await asyncio.sleep(3600)
//       print('yay!')
//
//   async def main():
//       try:
//           await asyncio.wait_for(eternity(), timeout=1.0)
//       except TimeoutError:
//           print('timeout!')

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>

#include "aio/aio.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

// Seconds as plain numbers, as the Python original writes them.
aio::Task<> eternity(double work) {
  try {
    co_await aio::sleep(work);
  } catch (const aio::CancelledError&) {
    std::puts("eternity cancelled");  // wait_for cancels the inner and waits for this
    throw;
  }
  std::puts("yay!");
}

aio::Task<> main_(double timeout, double work) {
  const auto start = std::chrono::steady_clock::now();
  try {
    co_await aio::wait_for(eternity(work), timeout);
  } catch (const aio::TimeoutError&) {
    std::puts("timeout!");
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("wait_for took %0.2f seconds.\n", took.count());
}

// A number of seconds in [0, one day], with a help text and an error that
// read as plain numbers (CLI::NonNegativeNumber prints DBL_MAX in full).
CLI::Validator seconds_up_to_a_day() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "Value " + text + " is not a number";
        if (!(v >= 0 && v <= 86400)) return "Value " + text + " not in range 0 to 86400 (seconds)";
        return {};
      },
      "FLOAT in [0 - 86400]");
}

}  // namespace

Scenario wait_for_scenario() {
  return {"wait_for", "asyncio.wait_for(eternity(), timeout=1.0): the inner is cancelled, then timeout!",
          [](CLI::App& app) -> std::function<int()> {
            auto timeout = std::make_shared<double>(1.0);
            auto work = std::make_shared<double>(3600.0);
            app.add_option("--timeout", *timeout, "seconds before wait_for gives up")
                ->check(seconds_up_to_a_day())
                ->capture_default_str();
            app.add_option("--work", *work, "seconds the inner coroutine sleeps (shorter than --timeout: yay!)")
                ->check(seconds_up_to_a_day())
                ->capture_default_str();
            return [timeout, work] {
              aio::run(main_(*timeout, *work));
              return 0;
            };
          }};
}

}  // namespace demo
