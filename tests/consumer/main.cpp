#include <aio/aio.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

aio::Task<int> after(std::chrono::milliseconds d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::Task<> main_() {
  auto [a, b, c] = co_await aio::gather(after(3ms, 1), after(2ms, 2), after(1ms, 3));
  std::printf("gathered 3 results: %d %d %d\n", a, b, c);
}

int main() { aio::run(main_()); }
