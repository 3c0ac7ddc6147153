// aio::timeout / timeout_at / Timeout: asyncio.timeout, with the cases of
// CPython 3.13's Lib/test/test_asyncio/test_timeouts.py that apply.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("timeout: the deadline cancels the body's await and raises TimeoutError", "[timeout]") {
  // test_timeout_basic, test_waiter_cancelled
  auto main = []() -> aio::Task<> {
    test::Stopwatch sw;
    bool cancelled = false, expired = false;
    CHECK_THROWS_AS(co_await aio::timeout(10ms,
                                          [&](aio::Timeout& cm) -> aio::Task<> {
                                            try {
                                              co_await aio::sleep(10s);
                                            } catch (const aio::CancelledError&) {
                                              cancelled = true;
                                              expired = cm.expired();
                                              throw;
                                            }
                                          }),
                    aio::TimeoutError);
    CHECK(cancelled);
    CHECK(expired);
    CHECK(sw.ms() >= 10);
    CHECK(sw.ms() < 2000);
  };
  aio::run(main());
}

TEST_CASE("timeout_at: when() is the deadline given; it expires there", "[timeout]") {
  // test_timeout_at_basic, test_timeout_not_called
  auto main = []() -> aio::Task<> {
    const auto deadline = Clock::now() + 10ms;
    std::optional<Clock::time_point> seen;
    CHECK_THROWS_AS(co_await aio::timeout_at(deadline,
                                             [&](aio::Timeout& cm) -> aio::Task<> {
                                               seen = cm.when();
                                               co_await aio::sleep(10s);
                                             }),
                    aio::TimeoutError);
    REQUIRE(seen);
    CHECK(*seen == deadline);
    const int r = co_await aio::timeout(10s, [&](aio::Timeout& cm) -> aio::Task<int> {
      co_await aio::sleep(1ms);
      CHECK_FALSE(cm.expired());
      CHECK(*cm.when() > Clock::now());
      co_return 7;
    });
    CHECK(r == 7);
  };
  aio::run(main());
}

TEST_CASE("timeout: nested scopes with one deadline: only the outer one raises TimeoutError", "[timeout]") {
  // test_nested_timeouts
  auto main = []() -> aio::Task<> {
    const auto deadline = Clock::now() + 10ms;
    bool inner_cancelled = false, inner_expired = false, outer_expired = false;
    CHECK_THROWS_AS(co_await aio::timeout_at(deadline,
                                             [&](aio::Timeout& cm1) -> aio::Task<> {
                                               try {
                                                 co_await aio::timeout_at(deadline, [&](aio::Timeout& cm2) -> aio::Task<> {
                                                   try {
                                                     co_await aio::sleep(10s);
                                                   } catch (const aio::CancelledError&) {
                                                     inner_expired = cm2.expired();
                                                     throw;
                                                   }
                                                 });
                                               } catch (const aio::CancelledError&) {
                                                 inner_cancelled = true;
                                                 outer_expired = cm1.expired();
                                                 throw;
                                               }
                                             }),
                    aio::TimeoutError);
    CHECK(inner_cancelled);
    CHECK(inner_expired);
    CHECK(outer_expired);
  };
  aio::run(main());
}

TEST_CASE("timeout: nested scopes each report their own expiry", "[timeout]") {
  // test_nested_timeouts_loop_busy: the inner deadline passes while the loop
  // is busy; the inner raises TimeoutError, caught; the outer one then
  // interrupts the next sleep.
  auto main = []() -> aio::Task<> {
    test::Stopwatch sw;
    bool inner_timed_out = false;
    CHECK_THROWS_AS(co_await aio::timeout(100ms,
                                          [&](aio::Timeout&) -> aio::Task<> {
                                            try {
                                              co_await aio::timeout(10ms, [&](aio::Timeout&) -> aio::Task<> {
                                                std::this_thread::sleep_for(30ms);  // the loop is busy
                                                co_await aio::sleep(1s);
                                              });
                                            } catch (const aio::TimeoutError&) {
                                              inner_timed_out = true;
                                            }
                                            co_await aio::sleep(10s);
                                          }),
                    aio::TimeoutError);
    CHECK(inner_timed_out);
    CHECK(sw.ms() < 2000);
  };
  aio::run(main());
}

TEST_CASE("timeout: zero or past deadlines expire at the next iteration", "[timeout]") {
  // test_timeout_zero, test_timeout_zero_sleep_zero, test_timeout_in_the_past_sleep_zero
  auto main = []() -> aio::Task<> {
    for (auto d : {0ms, -11000ms}) {
      const auto t0 = Clock::now();
      std::optional<Clock::time_point> when;
      bool ran_to_await = false;
      CHECK_THROWS_AS(co_await aio::timeout(d,
                                            [&](aio::Timeout& cm) -> aio::Task<> {
                                              when = cm.when();
                                              ran_to_await = true;  // not cancelled before the first await
                                              co_await aio::sleep(0s);
                                              co_await aio::sleep(10s);
                                            }),
                      aio::TimeoutError);
      CHECK(ran_to_await);
      REQUIRE(when);
      CHECK(*when <= Clock::now());
      if (d == 0ms) CHECK(*when >= t0);
    }
  };
  aio::run(main());
}

TEST_CASE("timeout: a foreign exception passes through unchanged", "[timeout]") {
  // test_foreign_exception_passed
  auto main = []() -> aio::Task<> {
    bool expired = true;
    CHECK_THROWS_AS(co_await aio::timeout(10ms,
                                          [&](aio::Timeout& cm) -> aio::Task<> {
                                            expired = cm.expired();
                                            throw std::out_of_range("key");
                                            co_return;
                                          }),
                    std::out_of_range);
    CHECK_FALSE(expired);
  };
  aio::run(main());
}

TEST_CASE("timeout: std::nullopt never expires until rescheduled", "[timeout]") {
  // test_timeout_disabled, test_timeout_at_disabled, test_reschedule
  auto main = []() -> aio::Task<> {
    co_await aio::timeout(std::nullopt, [&](aio::Timeout& cm) -> aio::Task<> {
      CHECK_FALSE(cm.when());
      co_await aio::sleep(5ms);
      CHECK_FALSE(cm.expired());
    });
    co_await aio::timeout_at(std::nullopt, [&](aio::Timeout& cm) -> aio::Task<> {
      CHECK_FALSE(cm.when());
      co_return;
    });
    test::Stopwatch sw;
    CHECK_THROWS_AS(co_await aio::timeout(std::nullopt,
                                          [&](aio::Timeout& cm) -> aio::Task<> {
                                            cm.reschedule(Clock::now() + 10ms);
                                            CHECK(cm.when());
                                            co_await aio::sleep(10s);
                                          }),
                    aio::TimeoutError);
    CHECK(sw.ms() >= 10);
    CHECK(sw.ms() < 2000);
  };
  aio::run(main());
}

TEST_CASE("timeout: reschedule moves or removes the deadline; the past expires at the next iteration", "[timeout]") {
  // test_reschedule: rescheduled from another task, then disabled; the task
  // is cancelled from outside and ends cancelled, not timed out.
  auto main = []() -> aio::Task<> {
    aio::Timeout* scope = nullptr;
    bool expired = true;
    const auto deadline1 = Clock::now() + 10s;
    auto f = aio::create_task(aio::timeout_at(deadline1, [&](aio::Timeout& cm) -> aio::Task<> {
      scope = &cm;
      try {
        co_await aio::sleep(50s);
      } catch (const aio::CancelledError&) {
        expired = cm.expired();
        throw;
      }
    }));
    while (scope == nullptr) co_await aio::sleep(0s);
    CHECK(scope->when() == deadline1);
    scope->reschedule(deadline1 + 20s);
    CHECK(scope->when() == deadline1 + 20s);
    scope->reschedule(std::nullopt);
    CHECK_FALSE(scope->when());
    f.cancel();
    CHECK_THROWS_AS(co_await f, aio::CancelledError);
    CHECK_FALSE(expired);

    // Rescheduled into the past: expires at the next iteration.
    test::Stopwatch sw;
    CHECK_THROWS_AS(co_await aio::timeout(10s,
                                          [&](aio::Timeout& cm) -> aio::Task<> {
                                            cm.reschedule(Clock::now() - 1s);
                                            CHECK_FALSE(cm.expired());
                                            co_await aio::sleep(10s);
                                          }),
                    aio::TimeoutError);
    CHECK(sw.ms() < 2000);
  };
  aio::run(main());
}

TEST_CASE("timeout: reschedule while expiring throws RuntimeError", "[timeout]") {
  // test_timeout_expiring: the body swallows the deadline's cancellation.
  auto main = []() -> aio::Task<> {
    std::string error;
    co_await aio::timeout(5ms, [&](aio::Timeout& cm) -> aio::Task<> {
      CHECK_THROWS_AS(co_await aio::sleep(1s), aio::CancelledError);
      try {
        cm.reschedule(Clock::now() + 20ms);
      } catch (const aio::RuntimeError& e) {
        error = e.what();
      }
    });
    CHECK(error == "Cannot change state of expiring Timeout");
  };
  aio::run(main());
}

TEST_CASE("timeout: an outside cancel stays a cancel, also in the deadline's iteration", "[timeout]") {
  // test_foreign_cancel_doesnt_timeout_if_not_expired, test_cancel_in_timeout_after_cancellation
  auto main = []() -> aio::Task<> {
    bool expired = true;
    auto self_cancel = aio::create_task(aio::timeout(10s, [&](aio::Timeout& cm) -> aio::Task<> {
      try {
        co_await aio::sleep(0s);
        co_await aio::sleep(10s);
      } catch (const aio::CancelledError&) {
        expired = cm.expired();
        throw;
      }
    }));
    co_await aio::sleep(0s);
    self_cancel.cancel();
    CHECK_THROWS_AS(co_await self_cancel, aio::CancelledError);
    CHECK_FALSE(expired);

    // The deadline and an outside cancel in the same iteration: the deadline
    // is already past when the cancel is made, both reach the task before it
    // resumes.
    auto both = aio::create_task(aio::timeout(1ms, [&](aio::Timeout&) -> aio::Task<> {
      std::this_thread::sleep_for(5ms);  // the deadline passes meanwhile
      co_await aio::sleep(10s);          // it fires once the loop looks at its timers
    }));
    co_await aio::sleep(0s);  // `both` ran its first step; its deadline passed
    both.cancel();            // before the loop fires the timer
    CHECK_THROWS_AS(co_await both, aio::CancelledError);
    CHECK(both.cancelled());
  };
  aio::run(main());
}

TEST_CASE("timeout: a task whose body timed out is not itself cancelled", "[timeout]") {
  // test_outer_task_is_not_cancelled, test_timeout_after_cancellation
  auto main = []() -> aio::Task<> {
    auto outer = aio::create_task([]() -> aio::Task<std::string> {
      try {
        co_await aio::timeout(1ms, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(10s); });
      } catch (const aio::TimeoutError&) {
        co_return "timed out";
      }
      co_return "no";
    }());
    {
      const auto got = co_await outer;
      CHECK(got == "timed out");
    }
    CHECK_FALSE(outer.cancelled());
    CHECK(outer.cancelling() == 0);

    auto after_cancel = aio::create_task([]() -> aio::Task<std::string> {
      try {
        co_await aio::sleep(1s);
      } catch (const aio::CancelledError&) {
      }
      try {
        co_await aio::timeout(0s, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(1s); });
      } catch (const aio::TimeoutError&) {
        co_return "timed out";
      }
      co_return "no";
    }());
    co_await aio::sleep(0s);
    after_cancel.cancel();
    {
      const auto got = co_await after_cancel;
      CHECK(got == "timed out");
    }
  };
  aio::run(main());
}

TEST_CASE("timeout: the result of the body is returned, a move-only one too", "[timeout]") {
  auto main = []() -> aio::Task<> {
    auto p = co_await aio::timeout(1s, [](aio::Timeout&) -> aio::Task<std::unique_ptr<int>> {
      co_await aio::sleep(0s);
      co_return std::make_unique<int>(42);
    });
    CHECK(*p == 42);
  };
  aio::run(main());
}

namespace {
aio::Task<> sleeper(int* cancelled) {
  try {
    co_await aio::sleep(10s);
  } catch (const aio::CancelledError&) {
    ++*cancelled;
    throw;
  }
}
}  // namespace

TEST_CASE("timeout: a group's children are cancelled by the deadline and TimeoutError raised", "[timeout][task_group]") {
  // test_timeout_taskgroup
  auto main = []() -> aio::Task<> {
    int cancelled_children = 0;
    CHECK_THROWS_AS(co_await aio::timeout(10ms,
                                          [&](aio::Timeout&) -> aio::Task<> {
                                            co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
                                              for (int i = 0; i < 3; ++i) {
                                                tg.create_task(sleeper(&cancelled_children));
                                              }
                                              co_await aio::sleep(10s);
                                            });
                                          }),
                    aio::TimeoutError);
    CHECK(cancelled_children == 3);
  };
  aio::run(main());
}
