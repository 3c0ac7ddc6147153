#pragma once
// aio::File, aio::open_file, aio::read_file, aio::write_file: files on the
// ring (as tokio::fs), each call one io_uring operation.

#include <fcntl.h>
#include <sys/stat.h>  // struct statx (glibc 2.28+)

#include <cstddef>
#include <cstdint>
#include <coroutine>
#include <span>
#include <string>
#include <string_view>

#include "aio/detail/io_op.hpp"
#include "aio/task.hpp"

namespace aio {

class File;

namespace detail {

/// IORING_OP_OPENAT. An fd that the kernel opened for an awaiter that never
/// resumes (its loop closed first) is closed by the op, never leaked.
class [[nodiscard]] OpenOp final : public IoOp {
 public:
  OpenOp(std::string path, int flags, mode_t mode) : path_(std::move(path)), flags_(flags), mode_(mode) {}
  OpenOp(OpenOp&& o) noexcept : IoOp(std::move(o)), path_(std::move(o.path_)), flags_(o.flags_), mode_(o.mode_) {}
  ~OpenOp();
  void await_suspend(std::coroutine_handle<> h) {
    start(h, &prep);
    started_ = true;
  }
  File await_resume();

 private:
  static void prep(OpenOp* self, io_uring_sqe* sqe) noexcept;  // ops/openat.cpp
  std::string path_;
  int flags_;
  mode_t mode_;
  bool started_ = false;
  bool taken_ = false;
};

/// IORING_OP_READ / IORING_OP_WRITE at an explicit offset (-1: the file position).
class [[nodiscard]] ReadAtOp final : public IoOp {
 public:
  ReadAtOp(int fd, std::span<std::byte> buf, std::uint64_t offset) noexcept : fd_(fd), buf_(buf), offset_(offset) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::File::read")); }

 private:
  static void prep(ReadAtOp* self, io_uring_sqe* sqe) noexcept;  // ops/file_rw.cpp
  int fd_;
  std::span<std::byte> buf_;
  std::uint64_t offset_;
};

class [[nodiscard]] WriteAtOp final : public IoOp {
 public:
  WriteAtOp(int fd, std::span<const std::byte> buf, std::uint64_t offset) noexcept
      : fd_(fd), buf_(buf), offset_(offset) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  std::size_t await_resume() const { return static_cast<std::size_t>(result("aio::File::write")); }

 private:
  static void prep(WriteAtOp* self, io_uring_sqe* sqe) noexcept;  // ops/file_rw.cpp
  int fd_;
  std::span<const std::byte> buf_;
  std::uint64_t offset_;
};

/// IORING_OP_FSYNC (`datasync`: IORING_FSYNC_DATASYNC).
class [[nodiscard]] FsyncOp final : public IoOp {
 public:
  FsyncOp(int fd, bool datasync) noexcept : fd_(fd), datasync_(datasync) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  void await_resume() const { result(datasync_ ? "aio::File::fdatasync" : "aio::File::fsync"); }

 private:
  static void prep(FsyncOp* self, io_uring_sqe* sqe) noexcept;  // ops/fsync.cpp
  int fd_;
  bool datasync_;
};

/// IORING_OP_STATX of an open descriptor (AT_EMPTY_PATH); the result lives in the op.
class [[nodiscard]] StatxOp final : public IoOp {
 public:
  explicit StatxOp(int fd) noexcept : fd_(fd) {}
  StatxOp(StatxOp&& o) noexcept : IoOp(std::move(o)), fd_(o.fd_) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  struct statx await_resume() const {
    result("aio::File::stat");
    return stx_;
  }

 private:
  static void prep(StatxOp* self, io_uring_sqe* sqe) noexcept;  // ops/statx.cpp
  int fd_;
  struct statx stx_ {};
};

/// IORING_OP_CLOSE.
class [[nodiscard]] CloseOp final : public IoOp {
 public:
  explicit CloseOp(int fd) noexcept : fd_(fd) {}
  void await_suspend(std::coroutine_handle<> h) { start(h, &prep); }
  void await_resume() const { result("aio::File::close"); }

 private:
  static void prep(CloseOp* self, io_uring_sqe* sqe) noexcept;  // ops/close.cpp
  int fd_;
};

}  // namespace detail

/// An open file whose I/O goes through the running loop's ring. Move-only;
/// destroyed without close(), it closes its descriptor (close(2), at once).
///
/// Throws (every call): std::system_error with the operation's errno
/// (EBADF on a closed File, EISDIR, ENOSPC, EIO, ...); RuntimeError outside
/// a running task.
/// Cancel safety: as aio::read / aio::write — a cancelled operation throws
/// CancelledError; one that completed before the cancel took effect returns
/// its result (no byte is lost) and the cancellation is delivered at the
/// task's next suspending await. A cancelled write()/write_at() may have
/// written a prefix of the data (as a cancelled sock_sendall).
class File {
 public:
  File() noexcept = default;
  explicit File(int fd) noexcept : fd_(fd) {}
  File(File&& o) noexcept : fd_(o.release()) {}
  File& operator=(File&& o) noexcept;
  ~File();

  /// The descriptor, -1 once closed.
  int fd() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  /// Gives the descriptor up to the caller.
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  /// Reads up to `buf.size()` bytes at the file position and advances it;
  /// returns the count, 0 at end of file. One IORING_OP_READ.
  detail::ReadAtOp read(std::span<std::byte> buf) const noexcept { return {fd_, buf, ~std::uint64_t{0}}; }
  /// Reads up to `buf.size()` bytes at `offset` (pread); the position stays.
  detail::ReadAtOp read_at(std::span<std::byte> buf, std::uint64_t offset) const noexcept {
    return {fd_, buf, offset};
  }
  /// Writes all of `data` at the file position (one IORING_OP_WRITE; a short
  /// write, as on a full disk, is continued until everything is written or
  /// the kernel reports the error, e.g. ENOSPC).
  [[nodiscard]] Task<void> write(std::span<const std::byte> data) const;
  [[nodiscard]] Task<void> write(std::string_view data) const;
  /// Writes all of `data` at `offset` (pwrite).
  [[nodiscard]] Task<void> write_at(std::span<const std::byte> data, std::uint64_t offset) const;
  [[nodiscard]] Task<void> write_at(std::string_view data, std::uint64_t offset) const;
  /// fsync(2) / fdatasync(2): one IORING_OP_FSYNC.
  detail::FsyncOp fsync() const noexcept { return {fd_, false}; }
  detail::FsyncOp fdatasync() const noexcept { return {fd_, true}; }
  /// statx(2) of the open file (STATX_BASIC_STATS): one IORING_OP_STATX.
  detail::StatxOp stat() const noexcept { return detail::StatxOp(fd_); }
  /// Closes the descriptor with IORING_OP_CLOSE. The File is closed (fd() is
  /// -1) from the call on, also when the kernel reports an error (EIO from
  /// a deferred write-back) or the close is cancelled.
  detail::CloseOp close() noexcept { return detail::CloseOp(release()); }

 private:
  int fd_ = -1;
};

/// Opens `path` (IORING_OP_OPENAT, relative to the working directory);
/// `flags` and `mode` as open(2); O_CLOEXEC is always added.
/// Throws: std::system_error (ENOENT, EACCES, EISDIR, EEXIST, ...).
/// Cancel safety: a cancelled open throws CancelledError and opens nothing;
/// if it completed first, the File is returned (the cancellation comes at
/// the next await) or, if the task never resumes, the descriptor is closed.
inline detail::OpenOp open_file(std::string path, int flags = O_RDONLY, mode_t mode = 0666) {
  return detail::OpenOp(std::move(path), flags, mode);
}

/// The whole content of `path`: open, statx for the size, reads until end
/// of file, close. Throws: std::system_error as open_file and File::read.
/// Cancel safety: a cancel leaves nothing open (the File closes its fd).
[[nodiscard]] Task<std::string> read_file(std::string path);

/// Replaces the content of `path` with `data` (O_WRONLY | O_CREAT | O_TRUNC,
/// mode 0666 before the umask): open, write everything, close.
/// Throws: std::system_error as open_file and File::write (ENOSPC, ...).
/// Cancel safety: a cancelled write_file may leave the file truncated or
/// partly written.
[[nodiscard]] Task<void> write_file(std::string path, std::string_view data);

}  // namespace aio
