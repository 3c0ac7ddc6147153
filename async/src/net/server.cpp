#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "aio/errors.hpp"
#include "aio/net/connection.hpp"
#include "aio/net/resolver.hpp"
#include "aio/task_handle.hpp"
#include "net_context.hpp"
#include "server_state.hpp"
#include "socket_util.hpp"

namespace aio::detail {
namespace {

constexpr std::int64_t kAcceptPauseNs = 1'000'000'000;  // asyncio's ACCEPT_RETRY_DELAY

bool out_of_resources(int err) noexcept {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

// One connection's task: runs the callback. The Hold, a parameter, lives
// in the frame from its creation: the callback object (in the state) stays
// alive for as long as the frame exists, started or not.
Task<> run_client(ServerState::Hold hold, StreamReader reader, StreamWriter writer) {
  std::string failure;
  try {
    co_await hold.get()->cb(std::move(reader), std::move(writer));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  // asyncio logs it and closes the transport: the handles the callback held
  // went with its frame, which closed the connection.
  if (!failure.empty()) std::fprintf(stderr, "aio: unhandled exception in client_connected_cb: %s\n", failure.c_str());
}

}  // namespace

Listener::Listener(ServerState* s, int fd, SockAddr addr) noexcept
    : server(s), fd(fd), addr(addr), accept_op(&ServerState::on_accept, this) {
  resume.on_due = &ServerState::on_resume;
  resume.listener = this;
}

void server_connection_ended(ServerState* s, StreamTransport* t) noexcept { s->connection_ended(t); }

ServerState::ServerState(LoopCore& loop, ClientConnected callback, ServerOptions options)
    : cb(std::move(callback)), loop_(&loop), options_(options) {
  LoopResource::loop_closed = &on_loop_closed;
  loop.add_resource(this);
}

ServerState::~ServerState() {
  if (LoopResource::linked()) LoopResource::unlink();
  connections_.clear();
}

void ServerState::add_listener(int fd) {
  SockAddr addr;
  socklen_t len = SockAddr::capacity();
  if (::getsockname(fd, addr.data(), &len) == 0) addr.resize(len);
  listeners_.push_back(std::make_unique<Listener>(this, fd, addr));
}

void ServerState::start_serving() {
  if (serving_ || closed_) return;
  serving_ = true;
  for (auto& l : listeners_) arm_accept(*l);
}

void ServerState::arm_accept(Listener& l) noexcept {
  io_uring_sqe* sqe = l.accept_op.arm(*loop_);
  l.multishot = net_feature(kMultishotAccept);
  // The peer's address is asked for when needed (get_extra_info).
  if (l.multishot) {
    io_uring_prep_multishot_accept(sqe, l.fd, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    io_uring_prep_accept(sqe, l.fd, nullptr, nullptr, SOCK_CLOEXEC);
  }
}

void ServerState::on_accept(OwnedOp* op, int res, unsigned /*flags*/, bool final) noexcept {
  auto& l = *static_cast<Listener*>(op->owner);
  ServerState* s = l.server;
  if (res >= 0) {
    s->accepted(l, res);
  } else if (out_of_resources(-res)) {
    if (!s->reported_) {
      // Reported once per server (asyncio logs each time): the message says
      // what happens, and repeats would flood a log under a sustained limit.
      s->reported_ = true;
      std::fprintf(stderr,
                   "aio: accept() on %s out of system resources (%s): accepting paused for 1 s; "
                   "waiting connections stay queued\n",
                   l.addr.to_string().c_str(), std::strerror(-res));
    }
    l.paused = true;
    if (!final) l.accept_op.cancel(*s->loop_);
  } else if (res == -EINVAL && l.multishot && s->serving_) {  // not the shutdown of close()
    refuse_net_feature(kMultishotAccept);  // an older kernel: one accept SQE per connection
  }
  // Anything else (ECANCELED from close, ECONNABORTED: a peer gone before
  // it was accepted) ends nothing but this completion.
  if (!final) return;
  if (s->serving_ && s->loop_ != nullptr && !s->loop_->is_closed()) {
    if (l.paused) {
      l.resume.deadline = deadline_after(LoopCore::now(), kAcceptPauseNs);
      s->loop_->add_timer(&l.resume);
    } else {
      s->arm_accept(l);
    }
  } else {
    s->close_listener(l);
  }
  s->maybe_wake();
  s->maybe_free();
}

void ServerState::on_resume(TimerNode* n, TimerNode::Action a) noexcept {
  if (a != TimerNode::Action::fire) return;
  Listener& l = *static_cast<Listener::Resume*>(n)->listener;
  l.paused = false;
  if (l.server->serving_ && !l.accept_op.armed() && !l.server->loop_->is_closed()) l.server->arm_accept(l);
}

void ServerState::accepted(Listener& l, int fd) noexcept {
  if (!serving_ || loop_ == nullptr || loop_->is_closed()) {
    ::close(fd);  // accepted after close(): nobody will serve it
    return;
  }
  set_nodelay(fd, l.addr.family());
  StreamTransport* t = nullptr;
  try {
    t = new StreamTransport(*loop_, fd, StreamTransport::Kind::socket, options_.limit);
  } catch (...) {
    ::close(fd);
    return;
  }
  t->server = this;
  connections_.push_back(&t->server_link);
  ++active_;
  try {
    TaskHandle<void> task(spawn(*loop_, run_client(Hold(this), StreamReader(t), StreamWriter(t)), {}));
  } catch (...) {
    // No task could be made (out of memory): the transport, held by no one, closes.
  }
}

void ServerState::connection_ended(StreamTransport* t) noexcept {
  if (t->server_link.linked()) t->server_link.unlink();
  --active_;
  maybe_wake();
  maybe_free();
}

void ServerState::close_listener(Listener& l) noexcept {
  if (l.fd < 0) return;
  // Stop listening now, as asyncio's close() does: a connection attempted
  // once close() returned is refused, not queued and then dropped. The fd
  // itself stays open until the accept's final CQE.
  ::shutdown(l.fd, SHUT_RD);
  if (l.accept_op.armed() && !loop_->is_closed()) {
    l.accept_op.cancel(*loop_);  // closed once its final CQE came
    return;
  }
  if (l.resume.queued() && loop_ != nullptr) loop_->remove_timer(&l.resume);
  ::close(l.fd);
  l.fd = -1;
}

void ServerState::close() noexcept {
  if (closed_) return;
  closed_ = true;
  serving_ = false;
  for (auto& l : listeners_) {
    if (loop_ != nullptr && !loop_->is_closed()) {
      close_listener(*l);
    } else if (l->fd >= 0) {
      ::close(l->fd);
      l->fd = -1;
    }
  }
  if (!unix_path.empty()) {
    struct stat st {};
    if (::stat(unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(unix_path.c_str());
    unix_path.clear();
  }
  forever_waiters.wake_all();
  maybe_wake();
}

bool ServerState::finished() const noexcept {
  if (!closed_ || active_ != 0) return false;
  for (const auto& l : listeners_) {
    if (l->fd >= 0) return false;
  }
  return true;
}

void ServerState::maybe_wake() noexcept {
  if (finished()) closed_waiters.wake_all();
}

void ServerState::each_connection(void (*f)(StreamTransport*)) {
  connections_.for_each([f](StreamTransport::ServerLink* link) { f(link->self); });
}

std::vector<SockAddr> ServerState::addresses() const {
  std::vector<SockAddr> out;
  if (closed_) return out;
  for (const auto& l : listeners_) out.push_back(l->addr);
  return out;
}

void ServerState::drop_handle() noexcept {
  handle_ = false;
  close();
  maybe_free();
}

void ServerState::maybe_free() noexcept {
  if (handle_ || tasks_ != 0 || active_ != 0) return;
  for (const auto& l : listeners_) {
    if (l->accept_op.armed() || l->fd >= 0) return;
  }
  delete this;
}

void ServerState::on_loop_closed(LoopResource* r) noexcept {
  auto* s = static_cast<ServerState*>(r);
  for (auto& l : s->listeners_) {
    if (l->resume.queued()) s->loop_->remove_timer(&l->resume);
  }
  s->loop_ = nullptr;  // every accept has ended: the listeners close now
  s->close();
  s->connections_.clear();  // each connection was told too
  s->active_ = 0;
  s->maybe_free();
}

namespace {

ServerState& need(ServerState* s) {
  if (s == nullptr) throw RuntimeError("aio: use of an empty Server");
  return *s;
}

// Binds and listens on `addr`; returns the socket. Throws: std::system_error.
int listen_on(const SockAddr& addr, const ServerOptions& options) {
  FdGuard fd(make_socket(addr.family(), SOCK_STREAM));
  const int one = 1;
  if (addr.family() != AF_UNIX) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (options.reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw_socket_error(errno, "aio: setsockopt(SO_REUSEPORT)", addr);
  }
  if (addr.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  set_nodelay(fd.get(), addr.family());
  if (::bind(fd.get(), addr.data(), addr.size()) != 0) {
    throw_socket_error(errno, "aio: error while attempting to bind on address", addr);
  }
  if (::listen(fd.get(), options.backlog) != 0) throw_socket_error(errno, "aio: listen()", addr);
  return fd.release();
}

Server make_server(ClientConnected cb, const std::vector<SockAddr>& addrs, const ServerOptions& options,
                   std::string unix_path) {
  LoopCore& loop = running_loop();
  net_context(loop);
  std::vector<int> fds;
  try {
    for (const SockAddr& a : addrs) fds.push_back(listen_on(a, options));
  } catch (...) {
    for (int fd : fds) ::close(fd);
    throw;
  }
  auto* s = new ServerState(loop, std::move(cb), options);
  Server server(s);  // from here on the state is owned (and closed on a throw)
  for (std::size_t i = 0; i < fds.size(); ++i) {
    try {
      s->add_listener(fds[i]);
    } catch (...) {
      for (std::size_t j = i; j < fds.size(); ++j) ::close(fds[j]);
      throw;
    }
  }
  s->unix_path = std::move(unix_path);
  s->start_serving();
  return server;
}

}  // namespace

Task<Server> start_tcp_server(ClientConnected cb, std::string host, int port, ServerOptions options) {
  std::vector<SockAddr> addrs = co_await getaddrinfo(std::move(host), port, AF_UNSPEC, SOCK_STREAM);
  co_return make_server(std::move(cb), addrs, options, {});
}

Task<Server> start_unix_server(ClientConnected cb, std::string path, ServerOptions options) {
  const SockAddr addr = SockAddr::unix_path(path);
  if (path.front() != '@') {
    // A stale socket file from an earlier run is replaced (asyncio does too).
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  } else {
    path.clear();  // nothing to remove in the abstract namespace
  }
  co_return make_server(std::move(cb), {addr}, options, std::move(path));
}

}  // namespace aio::detail

namespace aio {

Server& Server::operator=(Server&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) s_->drop_handle();
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

Server::~Server() {
  if (s_ != nullptr) s_->drop_handle();
}

Task<> Server::serve_forever() {
  detail::ServerState& s = detail::need(s_);
  if (s.serving_forever) throw RuntimeError("aio: server is already being awaited on serve_forever()");
  if (s.addresses().empty()) throw RuntimeError("aio: server is closed");
  s.start_serving();
  s.serving_forever = true;
  bool cancelled = false;
  try {
    co_await detail::SignalAwaiter(
        s.forever_waiters, [](const void* p) noexcept { return !static_cast<const detail::ServerState*>(p)->serving(); },
        &s);
  } catch (const CancelledError&) {
    cancelled = true;
  }
  s.serving_forever = false;
  if (cancelled) {
    // The awaiting task was cancelled: close, wait, and end cancelled.
    s.close();
    co_await wait_closed();
  }
  throw CancelledError();
}

void Server::close() {
  if (s_ != nullptr) s_->close();
}

detail::SignalAwaiter Server::wait_closed() noexcept {
  return detail::SignalAwaiter(
      s_->closed_waiters, [](const void* p) noexcept { return static_cast<const detail::ServerState*>(p)->finished(); },
      s_);
}

void Server::close_clients() {
  if (s_ != nullptr) s_->each_connection([](detail::StreamTransport* t) { t->close(); });
}

void Server::abort_clients() {
  if (s_ != nullptr) s_->each_connection([](detail::StreamTransport* t) { t->abort(); });
}

bool Server::is_serving() const noexcept { return s_ != nullptr && s_->serving(); }

std::vector<SockAddr> Server::sockets() const { return s_ != nullptr ? s_->addresses() : std::vector<SockAddr>{}; }

int Server::port() const {
  const std::vector<SockAddr> a = sockets();
  return a.empty() ? 0 : a.front().port();
}

std::size_t Server::connections() const noexcept { return s_ != nullptr ? s_->active() : 0; }

Task<> Server::aenter() { co_return; }

Task<bool> Server::aexit(std::exception_ptr) {
  close();
  co_await wait_closed();
  co_return false;
}

}  // namespace aio
