// aio::shield: asyncio.shield (cases of CPython 3.13's test_tasks.py).

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<std::string> slow(std::string v) {
  co_await aio::sleep(5ms);
  co_return v;
}

aio::Task<std::string> through_shield(aio::TaskHandle<std::string> h) { co_return co_await aio::shield(h); }

}  // namespace

TEST_CASE("shield: the result of the shielded task, as awaiting it would", "[shield]") {
  // test_shield_result, test_shield_exception
  auto main = []() -> aio::Task<> {
    auto inner = aio::create_task(slow("x"));
    {
      const auto got = co_await aio::shield(inner);
      CHECK(got == "x");
    }
    {
      const auto got = co_await aio::shield(inner);
      CHECK(got == "x");  // done: at once, again
    }
    auto bad = aio::create_task([]() -> aio::Task<std::string> {
      throw std::runtime_error("boom");
      co_return "";
    }());
    CHECK_THROWS_AS(co_await aio::shield(bad), std::runtime_error);
  };
  aio::run(main());
}

TEST_CASE("shield: cancelling the awaiter throws there and leaves the shielded task running", "[shield][cancel]") {
  // test_shield_effect: cancelling outer cancels only outer
  auto main = []() -> aio::Task<> {
    auto inner = aio::create_task(slow("kept"));
    auto outer = aio::create_task(through_shield(inner));
    co_await aio::sleep(0s);  // outer waits on the shield
    outer.cancel();
    CHECK_THROWS_AS(co_await outer, aio::CancelledError);
    CHECK(outer.cancelled());
    CHECK_FALSE(inner.done());
    {
      const auto got = co_await inner;
      CHECK(got == "kept");
    }
  };
  aio::run(main());
}

TEST_CASE("shield: cancelling the shielded task cancels the awaiter too", "[shield][cancel]") {
  // test_shield_cancel_inner
  auto main = []() -> aio::Task<> {
    auto inner = aio::create_task(slow("never"));
    auto outer = aio::create_task(through_shield(inner));
    co_await aio::sleep(0s);
    inner.cancel();
    CHECK_THROWS_AS(co_await outer, aio::CancelledError);
    CHECK(inner.cancelled());
  };
  aio::run(main());
}
