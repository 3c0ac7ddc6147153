// Awaitables that are not awaited do nothing: every line marked MISUSE
// discards one and must be a compile error under -Werror
// (tests/compile_checks.cmake checks each line). The rest must compile.

#include <aio/aio.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <span>
#include <string>

namespace {

struct Res {
  int n = 0;
  aio::Task<> aenter() { co_return; }
  aio::Task<bool> aexit(std::exception_ptr) { co_return false; }
};

aio::Task<int> value() { co_return 1; }

}  // namespace

aio::Task<> misuse(int fd, std::span<std::byte> b, std::string& s, aio::Event& ev, aio::Lock& lock,
                   aio::Semaphore& sem, aio::Condition& cond, aio::Queue<int>& q) {
  auto body = [](Res&) -> aio::Task<> { co_return; };
  aio::sleep(std::chrono::milliseconds(200));  // MISUSE
  aio::sleep(0.2);  // MISUSE
  aio::sleep_until(std::chrono::steady_clock::now());  // MISUSE
  aio::read(fd, b);  // MISUSE
  aio::write(fd, std::span<const std::byte>(b));  // MISUSE
  aio::read(fd, s);  // MISUSE
  aio::write(fd, s);  // MISUSE
  aio::poll(fd, 1);  // MISUSE
  aio::gather(value(), value());  // MISUSE
  aio::gather_settled(value());  // MISUSE
  aio::wait_for(value(), std::chrono::seconds(1));  // MISUSE
  aio::wait_for(q.get(), 1.5);  // MISUSE
  aio::to_thread([] { return 1; });  // MISUSE
  aio::async_with(lock, [](aio::Lock&) -> aio::Task<> { co_return; });  // MISUSE
  aio::async_with<Res>(1, body);  // MISUSE
  aio::task_group([](aio::TaskGroup&) -> aio::Task<> { co_return; });  // MISUSE
  ev.wait();  // MISUSE
  lock.acquire();  // MISUSE
  sem.acquire();  // MISUSE
  cond.wait();  // MISUSE
  cond.wait_for([] { return true; });  // MISUSE
  q.get();  // MISUSE
  q.put(1);  // MISUSE
  q.join();  // MISUSE
  value();  // MISUSE

  // Awaited or kept, the same calls are fine.
  co_await aio::sleep(0.0);
  co_await aio::read(fd, s);
  co_await aio::gather(value(), aio::sleep(0));
  auto later = aio::wait_for(q.get(), 1.5);
  co_await std::move(later);
  co_await aio::async_with<Res>(1, body);
  (void)aio::create_task(value());  // a TaskHandle may be dropped: the task runs on
}
