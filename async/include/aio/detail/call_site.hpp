#pragma once
// Where a function was called from (std::source_location without
// <source_location>, which clang 14 cannot use with libstdc++ 12).

#if defined(__has_builtin)
#if __has_builtin(__builtin_source_location)
#include <bit>
#include <source_location>
#endif
#endif

#include <string_view>

namespace aio::detail {

struct CallSite {
  const char* file = nullptr;
  unsigned line = 0;
  const char* function = nullptr;

  /// As a default argument, the caller's file, line and function.
  static constexpr CallSite current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                    const char* function = __builtin_FUNCTION()) noexcept {
    return CallSite{file, line, function};
  }
};

/// The co_await a coroutine frame is suspended in, kept in every Task's
/// promise (call graphs). With g++ it is what std::source_location holds: one
/// pointer to a static object the compiler emits per call site, so a frame
/// pays 8 bytes and an await one store. It reaches await_transform as a bare
/// pointer (Arg), not as a std::source_location: g++ gives a class-type
/// argument of a co_await expression a slot in the coroutine frame, a
/// pointer none. clang 14 has no __builtin_source_location: there it holds
/// the three fields.
#if defined(__cpp_lib_source_location)
#define AIO_AWAIT_SITE_HERE __builtin_source_location()
class AwaitSite {
 public:
  using Arg = const void*;
  constexpr AwaitSite() noexcept = default;
  constexpr explicit AwaitSite(Arg where) noexcept : where_(where) {}
  bool known() const noexcept { return where_ != nullptr; }
  const char* file() const noexcept { return location().file_name(); }
  unsigned line() const noexcept { return location().line(); }
  /// g++'s function_name is the full signature ("aio::Task<int> ns::f(int)"):
  /// reports shorten it (short_function_name).
  const char* function() const noexcept { return location().function_name(); }

 private:
  // std::source_location is exactly this pointer (to its __impl).
  std::source_location location() const noexcept { return std::bit_cast<std::source_location>(where_); }
  const void* where_ = nullptr;
};
#else
#define AIO_AWAIT_SITE_HERE ::aio::detail::AwaitSite::current()
class AwaitSite {
 public:
  using Arg = AwaitSite;
  constexpr AwaitSite() noexcept = default;
  static constexpr AwaitSite current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                     const char* function = __builtin_FUNCTION()) noexcept {
    return AwaitSite(file, line, function);
  }
  bool known() const noexcept { return file_ != nullptr; }
  const char* file() const noexcept { return file_ != nullptr ? file_ : ""; }
  unsigned line() const noexcept { return line_; }
  const char* function() const noexcept { return function_ != nullptr ? function_ : ""; }

 private:
  constexpr AwaitSite(const char* file, unsigned line, const char* function) noexcept
      : file_(file), function_(function), line_(line) {}
  const char* file_ = nullptr;
  const char* function_ = nullptr;
  unsigned line_ = 0;
};
#endif

/// A function name as reports print it: g++'s full signature
/// ("aio::Task<int> ns::f(int) [with ...]") shortened to "ns::f"; a bare name
/// (clang's) as it is.
std::string_view short_function_name(std::string_view signature) noexcept;

}  // namespace aio::detail
