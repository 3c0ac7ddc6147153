#pragma once
// aio::StreamReader / aio::StreamWriter: asyncio's streams, over a
// connection's transport (a socket, or a pipe of a subprocess).

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "aio/detail/task_base.hpp"
#include "aio/detail/waiter_list.hpp"
#include "aio/net/sock_addr.hpp"
#include "aio/net/stream_errors.hpp"

namespace aio {

namespace detail {

class StreamTransport;  // async/src/net/stream_transport.hpp
void transport_add_handle(StreamTransport* t) noexcept;
void transport_drop_handle(StreamTransport* t) noexcept;

/// A reference to a transport held by a StreamReader or StreamWriter; the
/// transport closes when the last one goes.
class TransportRef {
 public:
  TransportRef() noexcept = default;
  explicit TransportRef(StreamTransport* t) noexcept : t_(t) {
    if (t_ != nullptr) transport_add_handle(t_);
  }
  TransportRef(const TransportRef& o) noexcept : TransportRef(o.t_) {}
  TransportRef(TransportRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  TransportRef& operator=(TransportRef o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~TransportRef() {
    if (t_ != nullptr) transport_drop_handle(t_);
  }
  StreamTransport* get() const noexcept { return t_; }
  explicit operator bool() const noexcept { return t_ != nullptr; }

 private:
  StreamTransport* t_ = nullptr;
};

/// One read of a StreamReader: completes at once when the buffer can
/// satisfy it, else parks the task until the transport says it can.
class [[nodiscard]] StreamRead : Wait {
 public:
  enum class Kind : std::uint8_t { some, all, exactly, until, line };
  StreamRead(StreamTransport* t, Kind kind, std::size_t n, std::string sep = {}) noexcept
      : t_(t), sep_(std::move(sep)), n_(n), kind_(kind) {
    Wait::cancel = &on_cancel;
  }
  StreamRead(StreamRead&& o) noexcept : StreamRead(o.t_, o.kind_, o.n_, std::move(o.sep_)) {}
  StreamRead& operator=(const StreamRead&) = delete;
  ~StreamRead();

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  std::string await_resume();

 private:
  friend class StreamTransport;
  static void on_cancel(Wait* w) noexcept;

  StreamTransport* t_;
  TaskBase* task_ = nullptr;
  std::string sep_;
  std::size_t n_;
  std::size_t searched_ = 0;  // readuntil: where the separator search resumes
  Kind kind_;
  bool waiting_ = false;
  bool cancelled_ = false;
};

bool transport_drained(const void* t) noexcept;
bool transport_closed(const void* t) noexcept;
WaiterList<>& transport_drain_waiters(StreamTransport* t) noexcept;
WaiterList<>& transport_closed_waiters(StreamTransport* t) noexcept;
void transport_check_drain(const StreamTransport* t);
void transport_check_closed(const StreamTransport* t);

/// StreamWriter::drain and wait_closed: a SignalAwaiter that then reports
/// the connection's error.
class [[nodiscard]] TransportWait : SignalAwaiter {
 public:
  using Check = void (*)(const StreamTransport*);
  TransportWait(WaiterList<>& list, ReadyFn ready, const StreamTransport* t, Check check) noexcept
      : SignalAwaiter(list, ready, t), t_(t), check_(check) {}
  using SignalAwaiter::await_ready;
  using SignalAwaiter::await_suspend;
  void await_resume() const {
    SignalAwaiter::await_resume();
    check_(t_);
  }

 private:
  const StreamTransport* t_;
  Check check_;
};

}  // namespace detail

/// asyncio.StreamReader: reads from a connection. Data the peer sends is
/// received as it arrives (a multishot recv from the loop's shared buffer
/// ring) into this reader's buffer; a read takes from the buffer, waiting
/// only when it cannot be satisfied yet. Reading pauses while more than
/// 2 × limit bytes are buffered unread, and resumes below the limit.
/// Only one task may wait on a reader at a time.
///
/// Every read: Throws: std::system_error when the connection failed
/// (std::errc::connection_reset, ...); RuntimeError if another task is
/// already waiting on this reader, or outside a running task.
/// Cancel safety: safe; a cancelled read consumes nothing, so the bytes it
/// was waiting for are there for the next read, in order.
class StreamReader {
 public:
  StreamReader() noexcept = default;
  explicit StreamReader(detail::StreamTransport* t) noexcept : t_(t) {}

  /// Up to `n` bytes, waiting until at least one is buffered ("" at EOF);
  /// `n` = -1: everything until EOF (asyncio StreamReader.read).
  detail::StreamRead read(long n = -1) noexcept {
    return {t_.get(), n < 0 ? detail::StreamRead::Kind::all : detail::StreamRead::Kind::some,
            n < 0 ? 0 : static_cast<std::size_t>(n)};
  }
  /// Exactly `n` bytes. Throws: IncompleteReadError (with the bytes read,
  /// consumed) if the stream ends first.
  detail::StreamRead readexactly(std::size_t n) noexcept {
    return {t_.get(), detail::StreamRead::Kind::exactly, n};
  }
  /// Through the next "\n" (included); at EOF what is left, possibly "".
  /// Throws: ValueError when no "\n" comes within the limit (the data up to
  /// and including a separator found past it, or the whole buffer, is dropped).
  detail::StreamRead readline() noexcept { return {t_.get(), detail::StreamRead::Kind::line, 0, "\n"}; }
  /// Through the next `sep` (included). Throws: IncompleteReadError (all the
  /// bytes, consumed; expected() 0) at EOF; LimitOverrunError (nothing
  /// consumed) when `sep` is not found within the limit; ValueError for an
  /// empty `sep`.
  detail::StreamRead readuntil(std::string_view sep = "\n") {
    return {t_.get(), detail::StreamRead::Kind::until, 0, std::string(sep)};
  }
  /// True once the peer ended its side and the buffer is empty.
  bool at_eof() const noexcept;
  /// The buffer limit (ConnectOptions/ServerOptions::limit, 64 KiB by default).
  std::size_t limit() const noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(t_); }

 private:
  detail::TransportRef t_;
};

/// asyncio.StreamWriter: writes to a connection. write() only buffers; the
/// loop sends what a step wrote in one send just before it submits, with at
/// most one send in flight per connection (ordered, MSG_NOSIGNAL). drain()
/// applies flow control. The connection closes (flushing first) on close(),
/// or when the last StreamReader/StreamWriter of it is destroyed.
class StreamWriter {
 public:
  StreamWriter() noexcept = default;
  explicit StreamWriter(detail::StreamTransport* t) noexcept : t_(t) {}

  /// Buffers `data` for sending. After close() or a connection error the
  /// data is dropped (asyncio's behaviour). Throws: RuntimeError after write_eof().
  void write(std::string_view data);
  /// write() of each element, in order.
  template <class Range>
  void writelines(const Range& lines) {
    for (const auto& l : lines) write(std::string_view(l));
  }
  /// Returns at once while the write buffer is at most the high-water mark
  /// (64 KiB), else waits until it is at most the low-water mark (16 KiB).
  /// Throws: the connection's std::system_error (connection_reset,
  /// broken_pipe); connection_reset ("Connection lost") once it is closed.
  /// Cancel safety: safe; the data stays buffered and is still sent.
  detail::TransportWait drain() noexcept;
  /// Sends what is buffered, then shuts the sending side down (SHUT_WR); the
  /// peer reads EOF. Reading goes on.
  void write_eof();
  bool can_write_eof() const noexcept;
  /// Stops reading, sends what is buffered, then closes the socket.
  /// Idempotent.
  void close();
  /// Waits until the connection is closed. Throws: the error that ended it
  /// (connection_reset, ...). Cancel safety: safe.
  detail::TransportWait wait_closed() noexcept;
  bool is_closing() const noexcept;
  /// Closes at once: buffered data is dropped, pending operations cancelled.
  void abort();
  /// "peername" or "sockname": the address; anything else: an empty SockAddr.
  SockAddr get_extra_info(std::string_view name) const;
  /// Throws: ValueError unless high >= low.
  void set_write_buffer_limits(std::size_t high, std::size_t low);
  /// Bytes buffered and not yet sent.
  std::size_t write_buffer_size() const noexcept;
  /// The connection's descriptor (-1 once closed), for setsockopt and the like.
  int fd() const noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(t_); }

 private:
  detail::TransportRef t_;
};

/// What open_connection returns: `auto [reader, writer] = co_await aio::open_connection(...)`.
struct StreamPair {
  StreamReader reader;
  StreamWriter writer;
};

}  // namespace aio
