#pragma once
// The transport behind a StreamReader/StreamWriter pair: one connected
// socket (or one pipe end), its read buffer fed by an armed (multishot) recv,
// its write buffer drained by at most one send in flight. Heap-allocated;
// lives while a handle (StreamReader/StreamWriter) or a kernel operation
// needs it, so that no completion ever touches freed memory. Internal.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "aio/detail/io_op.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/waiter_list.hpp"
#include "aio/net/sock_addr.hpp"
#include "aio/net/streams.hpp"

namespace aio::detail {

class ServerState;
/// The server's side of a connection's end (server.cpp).
void server_connection_ended(ServerState* s, StreamTransport* t) noexcept;

class StreamTransport final : public LoopResource, PreSubmit {
 public:
  enum class Kind : std::uint8_t {
    socket,    ///< recv/send; write_eof is shutdown(SHUT_WR)
    pipe_in,   ///< the reading end of a pipe (read)
    pipe_out,  ///< the writing end of a pipe (write); write_eof closes it
  };

  /// Takes ownership of `fd` (connected); reading starts at once.
  StreamTransport(LoopCore& loop, int fd, Kind kind, std::size_t limit);
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // -- handles (StreamReader/StreamWriter): the last one closes
  void add_handle() noexcept { ++handles_; }
  void drop_handle() noexcept;

  // -- reading (StreamRead)
  bool read_ready(const StreamRead& r) noexcept;
  std::string take(StreamRead& r);
  void wait_read(StreamRead* r);
  void forget_reader(StreamRead* r) noexcept;
  bool at_eof() const noexcept { return eof_ && unread() == 0; }
  std::size_t limit() const noexcept { return limit_; }

  // -- writing
  void write(std::string_view data);
  void write_eof();
  bool can_write_eof() const noexcept { return kind_ == Kind::socket; }
  void close();
  void abort();
  bool is_closing() const noexcept { return state_ != State::open; }
  std::size_t write_buffer_size() const noexcept { return wbuf_.size() + (sending_.size() - sent_); }
  void set_write_buffer_limits(std::size_t high, std::size_t low);
  SockAddr extra_info(std::string_view name) const;
  int fd() const noexcept { return state_ == State::closed ? -1 : fd_; }

  WaiterList<> drain_waiters;
  WaiterList<> closed_waiters;
  bool drained() const noexcept { return write_buffer_size() <= high_ || error_ != 0 || state_ == State::closed; }
  bool closed() const noexcept { return state_ == State::closed; }
  void check_drain() const;
  void check_closed() const;

  // -- the server that accepted it (counts its live connections)
  struct ServerLink : ListHook {
    StreamTransport* self;
  };
  ServerLink server_link{};
  ServerState* server = nullptr;

 private:
  enum class State : std::uint8_t { open, closing, closed };
  ~StreamTransport();

  std::size_t unread() const noexcept { return rbuf_.size() - rhead_; }
  /// The loop runs on: a completion may start new operations (not while
  /// it closes, when everything is being cancelled and reaped).
  bool live() const noexcept { return loop_ != nullptr && !loop_->is_closed(); }
  bool want_read() const noexcept { return live() && state_ == State::open && !eof_ && error_ == 0 && !paused_; }
  void shut_down_writing() noexcept;
  void arm_recv() noexcept;
  void arm_send() noexcept;
  void consumed() noexcept;  // after a read took bytes: maybe resume reading
  void fail(int err) noexcept;  // the connection is lost with `err`
  void maybe_finish_close() noexcept;
  void maybe_free() noexcept;
  void wake_reader() noexcept;

  static void on_recv(OwnedOp* op, int res, unsigned flags, bool final) noexcept;
  static void on_send(OwnedOp* op, int res, unsigned flags, bool final) noexcept;
  static void flush(PreSubmit* p) noexcept;
  static void on_loop_closed(LoopResource* r) noexcept;

  LoopCore* loop_;  // null once the loop closed
  int fd_;
  Kind kind_;
  State state_ = State::open;
  bool eof_ = false;        // the peer ended its side (or we closed)
  bool paused_ = false;     // reading paused: more than 2 x limit unread
  bool eof_wanted_ = false;  // write_eof(): shut down once flushed
  bool multishot_ = false;  // the armed recv is multishot
  int error_ = 0;           // errno that ended the connection
  unsigned handles_ = 0;

  std::string rbuf_;  // unread bytes from rhead_ on
  std::size_t rhead_ = 0;
  std::size_t limit_;
  StreamRead* reader_ = nullptr;
  std::unique_ptr<char[]> own_buf_;  // recv buffer when no buffer ring is used

  std::string wbuf_;     // written, not yet handed to the kernel
  std::string sending_;  // handed to the send in flight, from sent_ on
  std::size_t sent_ = 0;
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;

  bool aborted_ = false;     // abort() or a failure: nothing more is sent

  OwnedOp recv_op_{&on_recv, this};
  OwnedOp send_op_{&on_send, this};
  mutable SockAddr peer_, local_;  // cached by extra_info
};

}  // namespace aio::detail
