// aio::async_with: `async with` — aexit always runs, sees the exception, may suppress it.

#include <catch2/catch.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

struct Resource {
  std::vector<std::string>& log;
  bool suppress = false;
  bool fail_enter = false;

  aio::Task<> aenter() {
    co_await aio::sleep(0s);
    if (fail_enter) throw std::runtime_error("enter failed");
    log.push_back("aenter");
  }
  aio::Task<bool> aexit(std::exception_ptr e) {
    co_await aio::sleep(1ms);  // aexit may await, also during a cancellation
    std::string what = "null";
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const aio::CancelledError&) {
        what = "CancelledError";
      } catch (const std::exception& ex) {
        what = ex.what();
      }
    }
    log.push_back("aexit:" + what);
    co_return suppress;
  }
};

}  // namespace

TEST_CASE("async_with runs aenter, the body, then aexit with no exception", "[async_with]") {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<int> {
    Resource r{log};
    co_return co_await aio::async_with(r, [&](Resource&) -> aio::Task<int> {
      log.push_back("body");
      co_return 3;
    });
  };
  CHECK(aio::run(main()) == 3);
  CHECK(log == std::vector<std::string>{"aenter", "body", "aexit:null"});
}

TEST_CASE("async_with passes the body's exception to aexit and rethrows it", "[async_with]") {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    Resource r{log};
    CHECK_THROWS_WITH(co_await aio::async_with(r, [](Resource&) -> aio::Task<> {
                        throw std::runtime_error("body failed");
                        co_return;
                      }),
                      "body failed");
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"aenter", "aexit:body failed"});
}

TEST_CASE("aexit returning true suppresses the exception", "[async_with]") {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<int> {
    Resource r{log, true};
    co_return co_await aio::async_with(r, [](Resource&) -> aio::Task<int> {
      throw std::runtime_error("suppressed");
      co_return 1;
    });
  };
  CHECK(aio::run(main()) == 0);
  CHECK(log == std::vector<std::string>{"aenter", "aexit:suppressed"});
}

TEST_CASE("a cancelled body still runs aexit, and the cancellation continues", "[async_with][cancel]") {
  std::vector<std::string> log;
  aio::Event in_body;
  auto user = [&]() -> aio::Task<> {
    Resource r{log};
    co_await aio::async_with(r, [&](Resource&) -> aio::Task<> {
      in_body.set();
      co_await aio::sleep(10s);
    });
    log.push_back("after with");  // not reached
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(user());
    co_await in_body.wait();  // cancelled in the body, not in aenter
    t.cancel();
    CHECK_THROWS_AS(co_await t, aio::CancelledError);
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"aenter", "aexit:CancelledError"});
}

TEST_CASE("aexit may suppress a cancellation", "[async_with][cancel]") {
  std::vector<std::string> log;
  aio::Event in_body;
  auto user = [&]() -> aio::Task<> {
    Resource r{log, true};
    co_await aio::async_with(r, [&](Resource&) -> aio::Task<> {
      in_body.set();
      co_await aio::sleep(10s);
    });
    log.push_back("after with");
  };
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(user());
    co_await in_body.wait();  // cancelled in the body, not in aenter
    t.cancel();
    co_await t;
    CHECK_FALSE(t.cancelled());
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"aenter", "aexit:CancelledError", "after with"});
}

TEST_CASE("if aenter throws, neither the body nor aexit runs", "[async_with]") {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    Resource r{log, false, true};
    CHECK_THROWS_WITH(co_await aio::async_with(r, [&](Resource&) -> aio::Task<> {
                        log.push_back("body");
                        co_return;
                      }),
                      "enter failed");
  };
  aio::run(main());
  CHECK(log.empty());
}

TEST_CASE("async_with takes a temporary resource by value", "[async_with]") {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    co_await aio::async_with(Resource{log}, [&](Resource& r) -> aio::Task<> {
      r.log.push_back("body");
      co_return;
    });
  };
  aio::run(main());
  CHECK(log == std::vector<std::string>{"aenter", "body", "aexit:null"});
}

TEST_CASE("async_with on a Lock holds it for the body and releases it after", "[async_with][lock]") {
  auto main = []() -> aio::Task<> {
    aio::Lock lock;
    co_await aio::async_with(lock, [](aio::Lock& l) -> aio::Task<> {
      CHECK(l.locked());
      co_return;
    });
    CHECK_FALSE(lock.locked());
    try {
      co_await aio::async_with(lock, [](aio::Lock&) -> aio::Task<> {
        throw std::runtime_error("inside");
        co_return;
      });
    } catch (const std::runtime_error&) {
    }
    CHECK_FALSE(lock.locked());
  };
  aio::run(main());
}

namespace {

// An aggregate with a member on the heap: `co_await aio::async_with(Named{...},
// body)` is the temporary g++ 12 destroys twice (a double free under ASan).
struct Named {
  std::string name;
  std::vector<std::string>* log;

  aio::Task<> aenter() {
    log->push_back("aenter:" + name);
    co_return;
  }
  aio::Task<bool> aexit(std::exception_ptr e) {
    log->push_back(e ? "aexit:error" : "aexit:null");
    co_return false;
  }
};

struct Built {
  std::string name;
  Built(std::string base, int n) : name(std::move(base) + std::to_string(n)) {}
  Built(const Built&) = delete;  // built in place: never copied or moved
  aio::Task<> aenter() { co_return; }
  aio::Task<bool> aexit(std::exception_ptr) { co_return false; }
};

}  // namespace

TEST_CASE("async_with<Res>(args..., body) builds an aggregate resource in place", "[async_with]") {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<std::size_t> {
    co_return co_await aio::async_with<Named>(std::string(40, 'r'), &log, [&](Named& n) -> aio::Task<std::size_t> {
      co_await aio::sleep(0ms);
      log.push_back("body");
      co_return n.name.size();
    });
  };
  CHECK(aio::run(main()) == 40);
  CHECK(log == std::vector<std::string>{"aenter:" + std::string(40, 'r'), "body", "aexit:null"});
}

TEST_CASE("async_with<Res>(args..., body) calls Res's constructor and passes the body's exception to aexit",
          "[async_with]") {
  auto main = []() -> aio::Task<> {
    std::string seen;
    CHECK_THROWS_WITH(co_await aio::async_with<Built>(std::string(30, 'b'), 7,
                                                      [&](Built& b) -> aio::Task<> {
                                                        seen = b.name;
                                                        co_await aio::sleep(0ms);
                                                        throw std::runtime_error("inside");
                                                      }),
                      "inside");
    CHECK(seen == std::string(30, 'b') + "7");
    // The body may be a named callable too.
    std::vector<std::string> log;
    auto body = [](Named& n) -> aio::Task<bool> { co_return n.name.empty(); };
    {
      const auto got = co_await aio::async_with<Named>(std::string(), &log, body);
      CHECK(got);
    }
  };
  aio::run(main());
}
