// What a port from asyncio writes: seconds as a number (sleep(0.05),
// wait_for(aw, 1.5)), and read/write on a std::string or std::vector<char>.

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aio/aio.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

TEST_CASE("sleep takes seconds as a number, as asyncio.sleep does", "[porting][sleep]") {
  auto main = []() -> aio::Task<> {
    test::Stopwatch sw;
    co_await aio::sleep(0.05);
    const double ms = sw.ms();
    CHECK(ms >= 50);  // never early
    CHECK(ms < 1000);
    test::Stopwatch yield;
    co_await aio::sleep(0);  // an int: a yield
    co_await aio::sleep(-1.0);  // negative: at once
    CHECK(yield.ms() < 50);
  };
  aio::run(main());
}

TEST_CASE("wait_for takes its timeout as a number of seconds", "[porting][wait_for]") {
  auto main = []() -> aio::Task<> {
    aio::Queue<int> q;
    q.put_nowait(3);
    {
      const auto got = co_await aio::wait_for(q.get(), 1.5);
      CHECK(got == 3);
    }
    test::Stopwatch sw;
    CHECK_THROWS_AS(co_await aio::wait_for(aio::sleep(10s), 0.02), aio::TimeoutError);
    CHECK(sw.ms() >= 20);
    CHECK(sw.ms() < 5000);
  };
  aio::run(main());
}

TEST_CASE("read and write take a std::string, a std::vector<char> or any contiguous range of bytes",
          "[porting][fd]") {
  auto main = []() -> aio::Task<> {
    test::Pipe p;
    const std::string hello = "hello ";
    {
      const auto got = co_await aio::write(p.w, hello);
      CHECK(got == 6);
    }
    {
      const auto got = co_await aio::write(p.w, std::string_view("world"));
      CHECK(got == 5);
    }
    const std::vector<unsigned char> bang{'!'};
    {
      const auto got = co_await aio::write(p.w, bang);
      CHECK(got == 1);
    }

    std::string s(6, '\0');
    {
      const auto got = co_await aio::read(p.r, s);
      CHECK(got == 6);
    }
    CHECK(s == "hello ");
    std::vector<char> v(5);
    {
      const auto got = co_await aio::read(p.r, v);
      CHECK(got == 5);
    }
    CHECK(std::string(v.begin(), v.end()) == "world");
    std::array<std::byte, 8> a{};
    {
      const auto got = co_await aio::read(p.r, a);
      CHECK(got == 1);
    }
    CHECK(a[0] == std::byte{'!'});
    // The span form is unchanged.
    std::byte one{'x'};
    {
      const auto got = co_await aio::write(p.w, std::span<const std::byte>(&one, 1));
      CHECK(got == 1);
    }
    {
      const auto got = co_await aio::read(p.r, std::span<std::byte>(a));
      CHECK(got == 1);
    }
    CHECK(a[0] == std::byte{'x'});
  };
  aio::run(main());
}

// What does not compile: reading into a const buffer or into a temporary, and
// ranges of anything but bytes.
template <class B>
concept Readable = requires(B&& b) { aio::read(0, std::forward<B>(b)); };
template <class B>
concept Writable = requires(B&& b) { aio::write(0, std::forward<B>(b)); };
static_assert(Readable<std::string&> && Readable<std::vector<char>&> && Readable<std::span<unsigned char>>);
static_assert(!Readable<const std::string&> && !Readable<std::string_view>);
static_assert(Writable<const std::string&> && Writable<std::string_view> && Writable<const std::vector<std::byte>&>);
static_assert(!Writable<std::vector<int>&> && !Writable<std::vector<char16_t>&>);
