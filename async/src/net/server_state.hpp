#pragma once
// The state behind an aio::Server: its listeners (each a socket with a
// multishot accept armed on the ring), its live connections, the callback.
// Lives until the Server handle is gone, every listener's accept has
// ended and every connection task has finished (the callback object is
// theirs too). Internal.

#include <memory>
#include <string>
#include <vector>

#include "aio/detail/io_op.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/detail/timer_heap.hpp"
#include "aio/detail/waiter_list.hpp"
#include "aio/net/server.hpp"
#include "stream_transport.hpp"

namespace aio::detail {

class ServerState;

struct Listener {
  Listener(ServerState* s, int fd, SockAddr addr) noexcept;
  ServerState* server;
  int fd;  // -1 once closed
  SockAddr addr;
  bool multishot = false;
  bool paused = false;  // out of descriptors: accepting resumes after 1 s
  OwnedOp accept_op;
  struct Resume : TimerNode {
    Listener* listener;
  } resume;
};

class ServerState final : public LoopResource {
 public:
  ServerState(LoopCore& loop, ClientConnected cb, ServerOptions options);
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  /// Takes over the bound, listening `fd`.
  void add_listener(int fd);
  void start_serving();
  void close() noexcept;
  void drop_handle() noexcept;

  bool serving() const noexcept { return serving_; }
  /// Closed, every listening socket closed and every connection ended.
  bool finished() const noexcept;
  std::size_t active() const noexcept { return active_; }
  std::vector<SockAddr> addresses() const;
  void each_connection(void (*f)(StreamTransport*));
  void connection_ended(StreamTransport* t) noexcept;

  std::string unix_path;  // removed at close
  WaiterList<> closed_waiters;   // wait_closed
  WaiterList<> forever_waiters;  // serve_forever
  bool serving_forever = false;

  /// A connection task's hold on the state (the callback lives here).
  class Hold {
   public:
    explicit Hold(ServerState* s) noexcept : s_(s) { ++s_->tasks_; }
    Hold(Hold&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Hold& operator=(const Hold&) = delete;
    ~Hold() {
      if (s_ != nullptr && --s_->tasks_ == 0) s_->maybe_free();
    }
    ServerState* get() const noexcept { return s_; }

   private:
    ServerState* s_;
  };
  ClientConnected cb;

 private:
  ~ServerState();
  void arm_accept(Listener& l) noexcept;
  void accepted(Listener& l, int fd) noexcept;
  void close_listener(Listener& l) noexcept;
  void maybe_wake() noexcept;
  void maybe_free() noexcept;
  static void on_loop_closed(LoopResource* r) noexcept;

 public:
  static void on_accept(OwnedOp* op, int res, unsigned flags, bool final) noexcept;
  static void on_resume(TimerNode* n, TimerNode::Action a) noexcept;

 private:

  LoopCore* loop_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  IntrusiveList<StreamTransport::ServerLink> connections_;
  std::size_t active_ = 0;
  unsigned tasks_ = 0;
  bool handle_ = true;
  bool serving_ = false;
  bool closed_ = false;
  bool reported_ = false;
};

}  // namespace aio::detail
