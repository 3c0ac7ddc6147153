#include "stream_transport.hpp"

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "aio/errors.hpp"
#include "driver.hpp"
#include "net_context.hpp"

namespace aio::detail {
namespace {

constexpr std::size_t kOwnBufferSize = 64 * 1024;  // a connection's recv buffer without the buffer ring

[[noreturn]] void throw_errno(int err, const char* what) { throw std::system_error(err, std::system_category(), what); }

}  // namespace

// -- handles ------------------------------------------------------------------

void transport_add_handle(StreamTransport* t) noexcept { t->add_handle(); }
void transport_drop_handle(StreamTransport* t) noexcept { t->drop_handle(); }

StreamTransport::StreamTransport(LoopCore& loop, int fd, Kind kind, std::size_t limit)
    : loop_(&loop), fd_(fd), kind_(kind), limit_(limit) {
  LoopResource::loop_closed = &on_loop_closed;
  PreSubmit::run = &flush;
  server_link.self = this;
  NetContext& net = net_context(loop);  // throws before anything is owned
  if (kind_ != Kind::socket || net.buffers() == nullptr) own_buf_ = std::make_unique<char[]>(kOwnBufferSize);
  loop.add_resource(this);
  if (kind_ == Kind::pipe_out) {
    eof_ = true;  // nothing to read
  } else {
    arm_recv();
  }
}

StreamTransport::~StreamTransport() {
  if (LoopResource::linked()) LoopResource::unlink();
  if (server_link.linked()) server_link.unlink();
}

void StreamTransport::drop_handle() noexcept {
  if (--handles_ != 0) return;
  // asyncio's StreamWriter.__del__: a connection nobody holds is closed,
  // after what was written is sent.
  if (live() && state_ == State::open) close();
  maybe_free();
}

void StreamTransport::maybe_free() noexcept {
  // A parked read (its awaiter in a frame not yet destroyed, as at loop
  // close) still names this transport: it goes when that awaiter forgets it.
  if (handles_ != 0 || presubmit_queued || recv_op_.armed() || send_op_.armed() || reader_ != nullptr) return;
  if (state_ == State::closed || loop_ == nullptr) delete this;
}

void StreamTransport::on_loop_closed(LoopResource* r) noexcept {
  // Every operation has ended (the loop reaped them all): close the socket
  // and forget the loop, which is going away; handles may outlive it.
  auto* t = static_cast<StreamTransport*>(r);
  if (t->state_ != State::closed) ::close(t->fd_);
  t->state_ = State::closed;
  t->eof_ = true;
  t->presubmit_queued = false;  // the loop drops its list
  t->loop_ = nullptr;
  if (t->server_link.linked()) t->server_link.unlink();
  t->server = nullptr;
  t->maybe_free();
}

// -- reading -------------------------------------------------------------------

void StreamTransport::arm_recv() noexcept {
  io_uring_sqe* sqe = recv_op_.arm(*loop_);
  uring::BufferRing* ring = own_buf_ ? nullptr : loop_->driver().net->buffers();
  if (ring != nullptr) {
    multishot_ = net_feature(kMultishotRecv);
    if (multishot_) {
      io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
    } else {
      io_uring_prep_recv(sqe, fd_, nullptr, ring->buffer_size(), 0);
    }
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = ring->group();
  } else {
    multishot_ = false;
    if (kind_ == Kind::socket) {
      io_uring_prep_recv(sqe, fd_, own_buf_.get(), kOwnBufferSize, 0);
    } else {
      io_uring_prep_read(sqe, fd_, own_buf_.get(), kOwnBufferSize, static_cast<std::uint64_t>(-1));
    }
  }
}

void StreamTransport::on_recv(OwnedOp* op, int res, unsigned flags, bool final) noexcept {
  auto* t = static_cast<StreamTransport*>(op->owner);
  if (res > 0) {
    // Data that came before the cancel (pause, close) took effect is kept:
    // a paused reader gets it later, nothing is lost.
    if (op->cancelling()) note_net_event(NetEvent::recv_data_after_cancel);
    try {
      if ((flags & uring::kCqeBuffer) != 0) {
        // Copied out and handed back in the same reap: the ring never runs dry
        // because a connection's reader is slow.
        uring::BufferRing& ring = *t->loop_->driver().net->buffers();
        const unsigned id = flags >> uring::kCqeBufferShift;
        t->rbuf_.append(ring.buffer(id), static_cast<std::size_t>(res));
        ring.recycle(id);
      } else {
        t->rbuf_.append(t->own_buf_.get(), static_cast<std::size_t>(res));
      }
    } catch (...) {
      if ((flags & uring::kCqeBuffer) != 0) t->loop_->driver().net->buffers()->recycle(flags >> uring::kCqeBufferShift);
      t->fail(ENOMEM);
    }
    t->wake_reader();
    // asyncio pauses reading above 2 x limit (a read-all consumes as it goes).
    const bool reading_all = t->reader_ != nullptr && t->reader_->kind_ == StreamRead::Kind::all;
    if (!t->paused_ && !reading_all && t->unread() > 2 * t->limit_) {
      t->paused_ = true;
      if (!final) t->recv_op_.cancel(*t->loop_);
    }
  } else if (res == 0) {
    t->eof_ = true;  // the peer shut its side down; writing may go on
    t->wake_reader();
  } else if (res == -ENOBUFS) {
    // The buffer ring ran dry before this batch was reaped; this batch's
    // buffers are recycled as they are copied, so the re-arm below finds them.
    note_net_event(NetEvent::recv_enobufs);
  } else if (res == -ECANCELED || res == -EINTR) {
    // Ended by our own cancel (pause, close).
  } else if (res == -EINVAL && t->multishot_) {
    refuse_net_feature(kMultishotRecv);  // an older kernel: one recv per read from now on
  } else {
    t->fail(-res);
  }
  if (final) {
    if (t->want_read()) {
      t->arm_recv();
    } else {
      t->maybe_finish_close();
    }
    t->maybe_free();
  }
}

void StreamTransport::wake_reader() noexcept {
  StreamRead* r = reader_;
  if (r == nullptr || !read_ready(*r)) return;
  reader_ = nullptr;
  r->waiting_ = false;
  r->task_->loop().schedule(r->task_);
}

bool StreamTransport::read_ready(const StreamRead& r) noexcept {
  if (error_ != 0) return true;
  const std::size_t n = unread();
  switch (r.kind_) {
    case StreamRead::Kind::some:
      return r.n_ == 0 || n > 0 || eof_;
    case StreamRead::Kind::all:
      return eof_;
    case StreamRead::Kind::exactly:
      return n >= r.n_ || eof_;
    case StreamRead::Kind::until:
    case StreamRead::Kind::line: {
      const std::size_t seplen = r.sep_.size();
      if (seplen == 0) return true;
      auto& mr = const_cast<StreamRead&>(r);
      if (n >= mr.searched_ + seplen) {
        if (rbuf_.find(r.sep_, rhead_ + mr.searched_) != std::string::npos) return true;
        mr.searched_ = n + 1 - seplen;
        if (mr.searched_ > limit_) return true;
      }
      return eof_;
    }
  }
  return true;
}

void StreamTransport::wait_read(StreamRead* r) {
  if (reader_ != nullptr && reader_ != r) {
    throw RuntimeError("StreamReader: a read was started while another task is already waiting for incoming data");
  }
  reader_ = r;
  if (r->kind_ == StreamRead::Kind::all && paused_) {
    paused_ = false;  // read-all takes everything: no point in pausing
    if (!recv_op_.armed() && want_read()) arm_recv();
  }
}

void StreamTransport::forget_reader(StreamRead* r) noexcept {
  if (reader_ != r) return;
  reader_ = nullptr;
  maybe_free();
}

void StreamTransport::consumed() noexcept {
  if (rhead_ == rbuf_.size()) {
    rbuf_.clear();
    rhead_ = 0;
  } else if (rhead_ > 4096 && rhead_ > rbuf_.size() / 2) {
    rbuf_.erase(0, rhead_);
    rhead_ = 0;
  }
  if (paused_ && unread() <= limit_) {
    paused_ = false;
    if (!recv_op_.armed() && want_read()) arm_recv();
  }
}

std::string StreamTransport::take(StreamRead& r) {
  if (error_ != 0) throw_errno(error_, "aio::StreamReader");
  const auto take_n = [this](std::size_t n) {
    std::string out;
    if (rhead_ == 0 && n == rbuf_.size()) {
      out = std::move(rbuf_);  // everything: no copy
      rbuf_ = std::string();
    } else {
      out.assign(rbuf_, rhead_, n);
      rhead_ += n;
    }
    consumed();
    return out;
  };
  const std::size_t n = unread();
  switch (r.kind_) {
    case StreamRead::Kind::some:
      return take_n(std::min(n, r.n_));
    case StreamRead::Kind::all:
      return take_n(n);
    case StreamRead::Kind::exactly:
      if (n >= r.n_) return take_n(r.n_);
      throw IncompleteReadError(take_n(n), r.n_);
    case StreamRead::Kind::until:
    case StreamRead::Kind::line: {
      const std::size_t seplen = r.sep_.size();
      if (seplen == 0) throw ValueError("Separator should be at least one-byte string");
      const std::size_t pos = rbuf_.find(r.sep_, rhead_);
      std::string message;
      std::size_t offset = 0;
      if (pos != std::string::npos) {
        const std::size_t isep = pos - rhead_;
        if (isep <= limit_) return take_n(isep + seplen);
        message = "Separator is found, but chunk is longer than limit";
        offset = isep;
      } else if (n + 1 > seplen && n + 1 - seplen > limit_) {
        message = "Separator is not found, and chunk exceed the limit";
        offset = n + 1 - seplen;
      } else {
        // At EOF: everything that is left.
        std::string rest = take_n(n);
        if (r.kind_ == StreamRead::Kind::line) return rest;
        throw IncompleteReadError(std::move(rest), 0);
      }
      if (r.kind_ == StreamRead::Kind::until) throw LimitOverrunError(message, offset);
      // readline drops the overlong line (through its separator, if found).
      if (rbuf_.compare(rhead_ + offset, seplen, r.sep_) == 0) {
        rhead_ += offset + seplen;
      } else {
        rhead_ = rbuf_.size();
      }
      consumed();
      throw ValueError(message);
    }
  }
  return {};
}

StreamRead::~StreamRead() {
  if (waiting_) t_->forget_reader(this);
}

bool StreamRead::await_ready() {
  if (t_ == nullptr) throw RuntimeError("aio::StreamReader: read on an empty reader");
  return t_->read_ready(*this);
}

void StreamRead::await_suspend(std::coroutine_handle<> h) {
  task_ = &current_task();
  t_->wait_read(this);
  waiting_ = true;
  task_->park(h, this);
}

std::string StreamRead::await_resume() {
  if (cancelled_) {
    task_->take_cancel();
    task_->throw_cancelled();
  }
  return t_->take(*this);
}

void StreamRead::on_cancel(Wait* w) noexcept {
  auto* self = static_cast<StreamRead*>(w);
  if (!self->waiting_) return;  // already woken: the read completes, the cancel stays pending
  self->t_->forget_reader(self);
  self->waiting_ = false;
  self->cancelled_ = true;
  self->task_->loop().schedule(self->task_);
}

// -- writing -------------------------------------------------------------------

void StreamTransport::write(std::string_view data) {
  if (eof_wanted_) throw RuntimeError("Cannot call write() after write_eof()");
  if (state_ != State::open || error_ != 0 || data.empty() || !live()) return;
  wbuf_.append(data);
  if (!send_op_.armed()) loop_->before_submit(this);
}

void StreamTransport::flush(PreSubmit* p) noexcept {
  auto* t = static_cast<StreamTransport*>(p);
  if (t->live() && !t->send_op_.armed() && !t->aborted_) t->arm_send();
  t->maybe_free();
}

void StreamTransport::arm_send() noexcept {
  if (sent_ == sending_.size()) {
    if (wbuf_.empty()) return;
    // Everything written since the last send goes out as one.
    sending_.clear();
    sending_.swap(wbuf_);
    sent_ = 0;
  }
  io_uring_sqe* sqe = send_op_.arm(*loop_);
  const char* p = sending_.data() + sent_;
  const auto len = static_cast<unsigned>(std::min<std::size_t>(sending_.size() - sent_, 1U << 30));
  if (kind_ == Kind::socket) {
    io_uring_prep_send(sqe, fd_, p, len, MSG_NOSIGNAL);
  } else {
    io_uring_prep_write(sqe, fd_, p, len, static_cast<std::uint64_t>(-1));
  }
}

void StreamTransport::on_send(OwnedOp* op, int res, unsigned /*flags*/, bool /*final*/) noexcept {
  auto* t = static_cast<StreamTransport*>(op->owner);
  if (res >= 0) {
    t->sent_ += static_cast<std::size_t>(res);
  } else if (res != -ECANCELED && res != -EINTR) {
    t->fail(-res);  // EPIPE, ECONNRESET: the connection is lost
  }
  if (t->aborted_) {
    t->sending_.clear();
    t->sent_ = 0;
  } else if (t->live()) {
    t->arm_send();  // the rest, or what was written meanwhile
  }
  if (t->write_buffer_size() <= t->low_) t->drain_waiters.wake_all();
  if (t->write_buffer_size() == 0 && t->eof_wanted_) t->shut_down_writing();
  t->maybe_finish_close();
  t->maybe_free();
}

void StreamTransport::shut_down_writing() noexcept {
  if (state_ != State::open) return;
  if (kind_ == Kind::socket) {
    ::shutdown(fd_, SHUT_WR);
  } else {
    close();  // a pipe's EOF is its close
  }
}

void StreamTransport::write_eof() {
  if (state_ != State::open || eof_wanted_) return;
  eof_wanted_ = true;
  if (write_buffer_size() == 0) shut_down_writing();
}

void StreamTransport::set_write_buffer_limits(std::size_t high, std::size_t low) {
  if (high < low) throw ValueError("high (" + std::to_string(high) + ") must be >= low (" + std::to_string(low) + ")");
  high_ = high;
  low_ = low;
  if (write_buffer_size() <= low_) drain_waiters.wake_all();
}

void StreamTransport::close() {
  if (state_ != State::open) return;
  state_ = State::closing;
  eof_ = true;  // a read gets what is buffered, then EOF
  wake_reader();
  if (live()) recv_op_.cancel(*loop_);
  maybe_finish_close();
}

void StreamTransport::abort() {
  if (state_ == State::closed) return;
  state_ = State::closing;
  aborted_ = true;
  eof_ = true;
  wbuf_.clear();
  wake_reader();
  if (live()) {
    recv_op_.cancel(*loop_);
    send_op_.cancel(*loop_);
  }
  drain_waiters.wake_all();
  maybe_finish_close();
}

void StreamTransport::fail(int err) noexcept {
  if (error_ == 0) error_ = err;
  abort();
}

void StreamTransport::maybe_finish_close() noexcept {
  if (state_ != State::closing || !live()) return;
  if (!aborted_ && (write_buffer_size() > 0 || send_op_.armed())) return;  // flushing first
  if (recv_op_.armed()) {
    recv_op_.cancel(*loop_);
    return;
  }
  if (send_op_.armed()) return;
  // Nothing of ours is in flight: close(2) cannot race with an operation.
  ::close(fd_);
  state_ = State::closed;
  if (LoopResource::linked()) LoopResource::unlink();
  closed_waiters.wake_all();
  drain_waiters.wake_all();
  if (ServerState* s = server) {
    server = nullptr;
    server_connection_ended(s, this);
  }
}

void StreamTransport::check_drain() const {
  if (error_ != 0) throw_errno(error_, "aio::StreamWriter.drain");
  if (state_ == State::closed) throw std::system_error(ECONNRESET, std::system_category(), "Connection lost");
}

void StreamTransport::check_closed() const {
  if (error_ != 0) throw_errno(error_, "aio::StreamWriter.wait_closed");
}

SockAddr StreamTransport::extra_info(std::string_view name) const {
  const bool peer = name == "peername";
  if (!peer && name != "sockname") return {};
  SockAddr& cached = peer ? peer_ : local_;
  if (cached.empty() && state_ != State::closed && kind_ == Kind::socket) {
    SockAddr a;
    socklen_t len = SockAddr::capacity();
    const int r = peer ? ::getpeername(fd_, a.data(), &len) : ::getsockname(fd_, a.data(), &len);
    if (r == 0) {
      a.resize(len);
      cached = a;
    }
  }
  return cached;
}

// -- the public classes' out-of-line parts -----------------------------------

bool transport_drained(const void* t) noexcept { return static_cast<const StreamTransport*>(t)->drained(); }
bool transport_closed(const void* t) noexcept { return static_cast<const StreamTransport*>(t)->closed(); }
WaiterList<>& transport_drain_waiters(StreamTransport* t) noexcept { return t->drain_waiters; }
WaiterList<>& transport_closed_waiters(StreamTransport* t) noexcept { return t->closed_waiters; }
void transport_check_drain(const StreamTransport* t) { t->check_drain(); }
void transport_check_closed(const StreamTransport* t) { t->check_closed(); }

}  // namespace aio::detail

namespace aio {
namespace {

detail::StreamTransport& need(detail::StreamTransport* t) {
  if (t == nullptr) throw RuntimeError("aio: use of an empty StreamWriter");
  return *t;
}

}  // namespace

bool StreamReader::at_eof() const noexcept { return t_ && t_.get()->at_eof(); }
std::size_t StreamReader::limit() const noexcept { return t_ ? t_.get()->limit() : 0; }

void StreamWriter::write(std::string_view data) { need(t_.get()).write(data); }
detail::TransportWait StreamWriter::drain() noexcept {
  detail::StreamTransport* t = t_.get();
  return {t->drain_waiters, &detail::transport_drained, t, &detail::transport_check_drain};
}
void StreamWriter::write_eof() { need(t_.get()).write_eof(); }
bool StreamWriter::can_write_eof() const noexcept { return t_ && t_.get()->can_write_eof(); }
void StreamWriter::close() {
  if (t_) t_.get()->close();
}
detail::TransportWait StreamWriter::wait_closed() noexcept {
  detail::StreamTransport* t = t_.get();
  return {t->closed_waiters, &detail::transport_closed, t, &detail::transport_check_closed};
}
bool StreamWriter::is_closing() const noexcept { return !t_ || t_.get()->is_closing(); }
void StreamWriter::abort() {
  if (t_) t_.get()->abort();
}
SockAddr StreamWriter::get_extra_info(std::string_view name) const {
  return t_ ? t_.get()->extra_info(name) : SockAddr{};
}
void StreamWriter::set_write_buffer_limits(std::size_t high, std::size_t low) {
  need(t_.get()).set_write_buffer_limits(high, low);
}
std::size_t StreamWriter::write_buffer_size() const noexcept { return t_ ? t_.get()->write_buffer_size() : 0; }
int StreamWriter::fd() const noexcept { return t_ ? t_.get()->fd() : -1; }

}  // namespace aio
