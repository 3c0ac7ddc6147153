// The networking workloads of ../shared/BENCH.md: tcp_echo, tcp_echo/sock,
// tcp_echo_1conn, tcp_connect_close/10000, tcp_stream, udp_echo, plus
// tcp_stream/blocking_pair, the reference tcp_stream is measured against (two
// threads, blocking send(2)/recv(2) over loopback, no runtime).
//
// Server and clients run in one process on one loop, over 127.0.0.1. Every
// run is one Google Benchmark iteration. The timed workloads last
// AIO_BENCH_SECONDS seconds (default 5, the BENCH.md figure; e.g.
// AIO_BENCH_SECONDS=0.5 for a quick run). Every run checks that it did the
// work it defines (bench::check aborts otherwise).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "common.hpp"

namespace {

constexpr std::size_t kMessage = 64;  // tcp_echo, udp_echo message size

double run_seconds() {
  const char* s = std::getenv("AIO_BENCH_SECONDS");
  const double v = s ? std::atof(s) : 5.0;
  return v > 0 ? v : 5.0;
}

/// Open file descriptors of the process (the directory's own fd included
/// every time, so two counts compare).
int open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// The figures of one ping-pong run; shared by the clients of one loop.
struct PingPong {
  std::size_t clients = 0;
  std::int64_t duration_ns = 0;
  std::size_t connected = 0;
  aio::Event go;  // set once every client is connected: the clock starts
  std::int64_t t0 = 0, t_end = 0;
  std::uint64_t trips = 0;
  bench::Histogram latency;

  // Connected: wait for the others, so that connection setup is not timed.
  aio::Task<> ready() {
    if (++connected == clients) {
      t0 = bench::now_ns();
      go.set();
    }
    co_await go.wait();
  }
  // One round trip that started at `start` is done; false once time is up.
  bool record(std::int64_t start) {
    const std::int64_t t = bench::now_ns();
    latency.record(t - start);
    ++trips;
    if (t - t0 < duration_ns) return true;
    t_end = std::max(t_end, t);
    return false;
  }
};

void report(benchmark::State& state, const PingPong& p) {
  const double secs = static_cast<double>(p.t_end - p.t0) / 1e9;
  state.counters["round_trips_per_s"] = static_cast<double>(p.trips) / secs;
  state.counters["p50_us"] = p.latency.quantile(0.50) / 1e3;
  state.counters["p99_us"] = p.latency.quantile(0.99) / 1e3;
  state.counters["round_trips"] = static_cast<double>(p.trips);
}

// -- tcp_echo / tcp_echo_1conn: streams on both sides. The handler loops
// readexactly(64), write, drain; each client sends 64 bytes and awaits the
// echo with readexactly, until the time is up, then closes.

aio::Task<> echo_handler(aio::StreamReader reader, aio::StreamWriter writer) {
  try {
    while (true) {
      std::string message = co_await reader.readexactly(kMessage);
      writer.write(message);
      co_await writer.drain();
    }
  } catch (const aio::IncompleteReadError& e) {
    bench::check(e.partial().empty(), "tcp_echo: a client closed in the middle of a message");
  }
  writer.close();
  co_await writer.wait_closed();
}

aio::Task<> echo_client(int port, PingPong* p) {
  aio::StreamPair conn = co_await aio::open_connection("127.0.0.1", port);
  co_await p->ready();
  const std::string message(kMessage, 'x');
  bool more = true;
  while (more) {
    const std::int64_t start = bench::now_ns();
    conn.writer.write(message);
    co_await conn.writer.drain();
    const std::string echo = co_await conn.reader.readexactly(kMessage);
    bench::check(echo.size() == kMessage && echo[0] == 'x', "tcp_echo: wrong echo");
    more = p->record(start);
  }
  conn.writer.close();
  co_await conn.writer.wait_closed();
}

aio::Task<> tcp_echo_main(PingPong* p) {
  aio::Server server = co_await aio::start_server(echo_handler, "127.0.0.1", 0);
  std::vector<aio::Task<>> clients;
  for (std::size_t i = 0; i < p->clients; ++i) clients.push_back(echo_client(server.port(), p));
  co_await aio::gather(std::move(clients));
  server.close();
  co_await server.wait_closed();
}

void tcp_echo(benchmark::State& state, std::size_t clients) {
  for (auto _ : state) {
    auto p = std::make_unique<PingPong>();
    p->clients = clients;
    p->duration_ns = static_cast<std::int64_t>(run_seconds() * 1e9);
    aio::run(tcp_echo_main(p.get()));
    bench::check(p->trips > 0, "tcp_echo: no round trip");
    report(state, *p);
  }
}

// -- tcp_echo/sock: the same exchange with sock_accept / sock_connect /
// sock_recv_into / sock_sendall on plain sockets (no streams).

void nodelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Reads exactly buf.size() bytes; false at EOF before the first byte.
aio::Task<bool> recv_exactly(int fd, std::span<std::byte> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    const std::size_t n = co_await aio::sock_recv_into(fd, buf.subspan(got));
    if (n == 0) {
      bench::check(got == 0, "tcp_echo/sock: EOF in the middle of a message");
      co_return false;
    }
    got += n;
  }
  co_return true;
}

aio::Task<> sock_echo_handler(int fd) {
  std::byte buf[kMessage];
  while (co_await recv_exactly(fd, buf)) co_await aio::sock_sendall(fd, std::span<const std::byte>(buf));
  ::close(fd);
}

aio::Task<> sock_echo_server(int listener, std::size_t clients) {
  std::vector<aio::Task<>> handlers;
  for (std::size_t i = 0; i < clients; ++i) {
    aio::AcceptResult a = co_await aio::sock_accept(listener);
    nodelay(a.fd);
    handlers.push_back(sock_echo_handler(a.fd));
  }
  co_await aio::gather(std::move(handlers));
}

aio::Task<> sock_echo_client(aio::SockAddr server, PingPong* p) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bench::check(fd >= 0, "tcp_echo/sock: socket");
  nodelay(fd);
  co_await aio::sock_connect(fd, server);
  co_await p->ready();
  std::byte out[kMessage], in[kMessage];
  std::fill(std::begin(out), std::end(out), std::byte{'x'});
  bool more = true;
  while (more) {
    const std::int64_t start = bench::now_ns();
    co_await aio::sock_sendall(fd, std::span<const std::byte>(out));
    const bool got = co_await recv_exactly(fd, in);
    bench::check(got && in[0] == std::byte{'x'}, "tcp_echo/sock: wrong echo");
    more = p->record(start);
  }
  ::close(fd);  // nothing of ours is pending on it: the server sees EOF
}

aio::Task<> tcp_echo_sock_main(PingPong* p) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bench::check(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(listener, 128) == 0 &&
                   ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) == 0,
               "tcp_echo/sock: listen");
  const aio::SockAddr server = aio::SockAddr::parse("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  std::vector<aio::Task<>> tasks;
  tasks.push_back(sock_echo_server(listener, p->clients));
  for (std::size_t i = 0; i < p->clients; ++i) tasks.push_back(sock_echo_client(server, p));
  co_await aio::gather(std::move(tasks));
  ::close(listener);
}

void tcp_echo_sock(benchmark::State& state) {
  for (auto _ : state) {
    auto p = std::make_unique<PingPong>();
    p->clients = 64;
    p->duration_ns = static_cast<std::int64_t>(run_seconds() * 1e9);
    aio::run(tcp_echo_sock_main(p.get()));
    bench::check(p->trips > 0, "tcp_echo/sock: no round trip");
    report(state, *p);
  }
}

// -- tcp_connect_close/N: N times open_connection, a 1-byte echo, close +
// wait_closed, 16 clients at a time; the server's handler closes too.

struct ConnectClose {
  std::size_t n = 0, started = 0, done = 0, served = 0;
};

aio::Task<> cc_handler(aio::StreamReader reader, aio::StreamWriter writer, ConnectClose* cc) {
  const std::string byte = co_await reader.readexactly(1);
  writer.write(byte);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
  ++cc->served;
}

aio::Task<> cc_client(int port, ConnectClose* cc) {
  while (cc->started < cc->n) {
    ++cc->started;
    aio::StreamPair conn = co_await aio::open_connection("127.0.0.1", port);
    conn.writer.write("x");
    co_await conn.writer.drain();
    const std::string echo = co_await conn.reader.readexactly(1);
    bench::check(echo == "x", "tcp_connect_close: wrong echo");
    conn.writer.close();
    co_await conn.writer.wait_closed();
    ++cc->done;
  }
}

aio::Task<> connect_close_run(ConnectClose* cc) {
  auto cb = [cc](aio::StreamReader r, aio::StreamWriter w) { return cc_handler(std::move(r), std::move(w), cc); };
  aio::Server server = co_await aio::start_server(cb, "127.0.0.1", 0);
  std::vector<aio::Task<>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(cc_client(server.port(), cc));
  co_await aio::gather(std::move(clients));
  server.close();
  co_await server.wait_closed();
}

// Returns the file descriptors left open by the N connections. One
// connection first, untimed: what the loop creates once at its first socket
// is not a connection's fd left open.
aio::Task<int> tcp_connect_close_main(ConnectClose* cc, std::int64_t* t0) {
  ConnectClose first;
  first.n = 1;
  co_await connect_close_run(&first);
  const int fds_before = open_fds();
  *t0 = bench::now_ns();
  co_await connect_close_run(cc);
  co_return open_fds() - fds_before;
}

void tcp_connect_close(benchmark::State& state) {
  for (auto _ : state) {
    ConnectClose cc;
    cc.n = static_cast<std::size_t>(state.range(0));
    std::int64_t t0 = 0;
    const int leaked = aio::run(tcp_connect_close_main(&cc, &t0));
    const double secs = static_cast<double>(bench::now_ns() - t0) / 1e9;
    bench::check(cc.done == cc.n && cc.served == cc.n, "tcp_connect_close: connections missing");
    bench::check(leaked == 0, "tcp_connect_close: a file descriptor was left open");
    state.counters["conns_per_s"] = static_cast<double>(cc.n) / secs;
    state.counters["us_per_conn"] = secs * 1e6 / static_cast<double>(cc.n);
    state.counters["fds_left_open"] = leaked;
  }
}

// -- tcp_stream: 1 GiB in 64 KiB write + drain calls on one connection, read
// with read(65536) on the other side.

constexpr std::uint64_t kStreamBytes = 1ull << 30;
constexpr std::size_t kChunk = 64 * 1024;

struct Stream {
  std::int64_t t0 = 0, t_end = 0;
  std::uint64_t received = 0;
};

aio::Task<> stream_sink(aio::StreamReader reader, aio::StreamWriter writer, Stream* s) {
  while (true) {
    const std::string data = co_await reader.read(kChunk);
    if (data.empty()) break;
    s->received += data.size();
  }
  s->t_end = bench::now_ns();
  writer.close();
  co_await writer.wait_closed();
}

aio::Task<> tcp_stream_main(Stream* s) {
  auto cb = [s](aio::StreamReader r, aio::StreamWriter w) { return stream_sink(std::move(r), std::move(w), s); };
  aio::Server server = co_await aio::start_server(cb, "127.0.0.1", 0);
  aio::StreamPair conn = co_await aio::open_connection("127.0.0.1", server.port());
  const std::string chunk(kChunk, 'x');
  s->t0 = bench::now_ns();
  for (std::uint64_t sent = 0; sent < kStreamBytes; sent += kChunk) {
    conn.writer.write(chunk);
    co_await conn.writer.drain();
  }
  conn.writer.close();
  co_await conn.writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

void stream_report(benchmark::State& state, std::int64_t ns) {
  state.counters["GB_per_s"] = static_cast<double>(kStreamBytes) / static_cast<double>(ns);
  state.counters["peak_rss_MB"] = bench::peak_rss_bytes() / 1e6;
}

void tcp_stream(benchmark::State& state) {
  for (auto _ : state) {
    Stream s;
    aio::run(tcp_stream_main(&s));
    bench::check(s.received == kStreamBytes, "tcp_stream: bytes missing");
    stream_report(state, s.t_end - s.t0);
  }
}

// The reference: the same bytes through blocking send(2)/recv(2), a thread
// on each side.
void tcp_stream_blocking_pair(benchmark::State& state) {
  for (auto _ : state) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bench::check(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(listener, 1) == 0 &&
                     ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) == 0,
                 "tcp_stream/blocking_pair: listen");
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bench::check(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "tcp_stream/blocking_pair: connect");
    const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    nodelay(client);
    nodelay(server);
    std::uint64_t received = 0;
    std::int64_t t_end = 0;
    const std::int64_t t0 = bench::now_ns();
    std::thread reader([&] {
      std::vector<char> buf(kChunk);
      while (true) {
        const ssize_t n = ::recv(server, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        received += static_cast<std::uint64_t>(n);
      }
      t_end = bench::now_ns();
    });
    const std::string chunk(kChunk, 'x');
    for (std::uint64_t sent = 0; sent < kStreamBytes; sent += kChunk) {
      std::size_t off = 0;
      while (off < kChunk) {
        const ssize_t n = ::send(client, chunk.data() + off, kChunk - off, MSG_NOSIGNAL);
        bench::check(n > 0, "tcp_stream/blocking_pair: send");
        off += static_cast<std::size_t>(n);
      }
    }
    ::shutdown(client, SHUT_WR);
    reader.join();
    ::close(client);
    ::close(server);
    ::close(listener);
    bench::check(received == kStreamBytes, "tcp_stream/blocking_pair: bytes missing");
    stream_report(state, t_end - t0);
  }
}

// -- udp_echo: 64 clients, one DatagramEndpoint each, 64-byte datagrams
// echoed by one server endpoint, until the time is up. A 1-byte datagram
// tells the server a client is done.

aio::Task<> udp_server(aio::DatagramEndpoint* ep, std::size_t clients) {
  std::size_t done = 0;
  while (done < clients) {
    aio::Datagram d = co_await ep->recvfrom();
    if (d.data.size() == 1) {
      ++done;
      continue;
    }
    co_await ep->sendto(d.data, d.from);
  }
}

aio::Task<> udp_client(aio::SockAddr server, PingPong* p) {
  aio::DatagramOptions options;
  options.remote_addr = server;
  aio::DatagramEndpoint ep = co_await aio::create_datagram_endpoint(options);
  co_await p->ready();
  const std::string message(kMessage, 'x');
  bool more = true;
  while (more) {
    const std::int64_t start = bench::now_ns();
    co_await ep.sendto(message);
    const aio::Datagram d = co_await ep.recvfrom();
    bench::check(d.data.size() == kMessage, "udp_echo: wrong echo");
    more = p->record(start);
  }
  co_await ep.sendto("!");
  ep.close();
}

aio::Task<> udp_echo_main(PingPong* p) {
  aio::DatagramOptions options;
  options.local_addr = aio::SockAddr::parse("127.0.0.1:0");
  aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint(options);
  const aio::SockAddr addr = server.get_extra_info("sockname");
  std::vector<aio::Task<>> tasks;
  tasks.push_back(udp_server(&server, p->clients));
  for (std::size_t i = 0; i < p->clients; ++i) tasks.push_back(udp_client(addr, p));
  co_await aio::gather(std::move(tasks));
  server.close();
}

void udp_echo(benchmark::State& state) {
  for (auto _ : state) {
    auto p = std::make_unique<PingPong>();
    p->clients = 64;
    p->duration_ns = static_cast<std::int64_t>(run_seconds() * 1e9);
    aio::run(udp_echo_main(p.get()));
    bench::check(p->trips > 0, "udp_echo: no round trip");
    report(state, *p);
  }
}

const bool registered = [] {
  auto once = [](benchmark::internal::Benchmark* b) {
    b->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
  };
  once(benchmark::RegisterBenchmark("tcp_echo", tcp_echo, std::size_t{64}));
  once(benchmark::RegisterBenchmark("tcp_echo/sock", tcp_echo_sock));
  once(benchmark::RegisterBenchmark("tcp_echo_1conn", tcp_echo, std::size_t{1}));
  once(benchmark::RegisterBenchmark("tcp_connect_close", tcp_connect_close)->Arg(10'000));
  once(benchmark::RegisterBenchmark("tcp_stream", tcp_stream));
  once(benchmark::RegisterBenchmark("tcp_stream/blocking_pair", tcp_stream_blocking_pair));
  once(benchmark::RegisterBenchmark("udp_echo", udp_echo));
  return true;
}();

}  // namespace
