// A TaskGroup body that is not a coroutine (no co_await, no co_return): with
// aio::aio's -Werror=return-type this must not compile (without it, it
// compiles with a warning and aborts at run time).
#include <aio/aio.hpp>

aio::Task<> main_() {
  co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Task<> {
    tg.create_task(aio::sleep(0.01));
  });  // MISUSE
}

int main() { aio::run(main_()); }
