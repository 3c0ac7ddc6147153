#pragma once
// aio::Void and aio::Outcome<T>: what gather and gather_settled yield.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/errors.hpp"

namespace aio {

/// The result of a `Task<void>` inside gather's tuple or vector.
struct Void {
  friend bool operator==(Void, Void) noexcept { return true; }
};

template <class T>
using VoidToUnit = std::conditional_t<std::is_void_v<T>, Void, T>;

/// One child's end in `gather_settled` (asyncio's gather(return_exceptions=True)):
/// a value, an exception, or a cancellation.
template <class T>
class Outcome {
 public:
  using value_type = VoidToUnit<T>;

  static Outcome success(value_type v) {
    Outcome o;
    o.value_.emplace(std::move(v));
    return o;
  }
  static Outcome failure(std::exception_ptr e, bool cancelled) {
    Outcome o;
    o.error_ = std::move(e);
    o.cancelled_ = cancelled;
    return o;
  }

  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// True when the child ended cancelled; `exception()` then holds its CancelledError.
  bool cancelled() const noexcept { return cancelled_; }
  /// Null when the child succeeded.
  std::exception_ptr exception() const noexcept { return error_; }

  /// The value. Throws: the child's exception (CancelledError if cancelled).
  value_type& value() & {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  const value_type& value() const& {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  value_type&& value() && {
    if (!value_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

 private:
  Outcome() = default;
  std::optional<value_type> value_;
  std::exception_ptr error_;
  bool cancelled_ = false;
};

}  // namespace aio
