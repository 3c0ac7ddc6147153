#include <catch2/catch.hpp>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {
aio::Task<int> answer() { co_return 42; }
}  // namespace

TEST_CASE("smoke: run returns the result", "[task]") {
  CHECK(aio::run(answer()) == 42);
}
