#pragma once
// Where a function was called from (std::source_location without
// <source_location>, which clang 14 cannot use with libstdc++ 12).

namespace aio::detail {

struct CallSite {
  const char* file = nullptr;
  unsigned line = 0;

  /// As a default argument, the caller's file and line.
  static constexpr CallSite current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) noexcept {
    return CallSite{file, line};
  }
};

}  // namespace aio::detail
