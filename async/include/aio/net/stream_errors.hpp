#pragma once
// The exceptions of asyncio's streams.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace aio {

/// asyncio.IncompleteReadError: the stream ended before the read was
/// satisfied (readexactly, readuntil). The bytes read so far are consumed
/// and carried here.
class IncompleteReadError : public std::runtime_error {
 public:
  /// `expected` 0: no fixed size (readuntil), as asyncio's None.
  IncompleteReadError(std::string partial, std::size_t expected);
  const std::string& partial() const noexcept { return partial_; }
  std::size_t expected() const noexcept { return expected_; }

 private:
  std::string partial_;
  std::size_t expected_;
};

/// asyncio.LimitOverrunError: readuntil found no separator within the
/// reader's limit. Nothing is consumed; `consumed()` is how many bytes may be
/// (asyncio's name).
class LimitOverrunError : public std::runtime_error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed)
      : std::runtime_error(message), consumed_(consumed) {}
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

}  // namespace aio
