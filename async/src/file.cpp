#include "aio/file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace aio {
namespace detail {

OpenOp::~OpenOp() {
  // Completed, but the awaiting task never resumed to take the descriptor
  // (its loop closed): the descriptor is ours to close.
  if (started_ && !taken_ && raw_result() >= 0) ::close(raw_result());
}

File OpenOp::await_resume() {
  const int fd = result("aio::open_file");
  taken_ = true;
  return File(fd);
}

}  // namespace detail

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Task<void> File::write_at(std::span<const std::byte> data, std::uint64_t offset) const {
  const int fd = fd_;
  const bool positional = offset != ~std::uint64_t{0};
  while (!data.empty()) {
    detail::WriteAtOp op(fd, data, offset);
    const std::size_t n = co_await op;
    // A regular file never accepts 0 bytes of a non-empty write but on error.
    if (n == 0) throw std::system_error(EIO, std::system_category(), "aio::File::write");
    data = data.subspan(n);
    if (positional) offset += n;
  }
}

Task<void> File::write(std::span<const std::byte> data) const { return write_at(data, ~std::uint64_t{0}); }

Task<void> File::write(std::string_view data) const {
  return write_at(std::as_bytes(std::span<const char>(data.data(), data.size())), ~std::uint64_t{0});
}

Task<void> File::write_at(std::string_view data, std::uint64_t offset) const {
  return write_at(std::as_bytes(std::span<const char>(data.data(), data.size())), offset);
}

Task<std::string> read_file(std::string path) {
  File f = co_await open_file(std::move(path), O_RDONLY);
  const struct statx st = co_await f.stat();
  // procfs and sysfs files report size 0: read them in pages.
  std::size_t chunk = st.stx_size > 0 ? static_cast<std::size_t>(st.stx_size) + 1 : 4096;
  std::string out;
  for (;;) {
    const std::size_t have = out.size();
    out.resize(have + chunk);
    const std::size_t n = co_await f.read(std::as_writable_bytes(std::span<char>(out.data() + have, chunk)));
    out.resize(have + n);
    if (n == 0) break;
    chunk = std::max<std::size_t>(chunk, 4096);
  }
  co_await f.close();
  co_return out;
}

Task<void> write_file(std::string path, std::string_view data) {
  File f = co_await open_file(std::move(path), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  co_await f.write(data);
  co_await f.close();
}

}  // namespace aio
