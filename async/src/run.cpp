#include "aio/run.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace aio::detail {
namespace {

std::terminate_handler previous_handler = nullptr;

// CancelledError is not a std::exception (as asyncio's is a BaseException),
// so the default handler can only name its type: say what happened and the
// cancel message, then let the previous handler end the program as before.
[[noreturn]] void on_terminate() noexcept {
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const CancelledError& c) {
      std::fprintf(stderr,
                   "aio::run: the main task was cancelled: aio::CancelledError('%s'), and nothing caught it "
                   "(catch aio::CancelledError: it is not a std::exception)\n",
                   c.message().c_str());
    } catch (...) {
    }
  }
  if (previous_handler != nullptr) previous_handler();
  std::abort();
}

}  // namespace

void report_uncaught_cancel() noexcept {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  previous_handler = std::set_terminate(&on_terminate);
}

}  // namespace aio::detail
