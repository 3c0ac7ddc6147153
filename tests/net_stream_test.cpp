// Streams over loopback TCP and Unix sockets: bytes in order with none lost
// or duplicated, asyncio's read semantics, flow control, half-close, and
// the errors a user sees.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <aio/aio.hpp>
#include <aio/detail/net_features.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "net_util.hpp"

using namespace std::chrono_literals;

namespace {

// A server on a free loopback port running `cb`; the body gets the port.
template <class Cb, class Body>
auto with_server(Cb cb, Body body) {
  return aio::run([](Cb cb, Body body) -> aio::Task<> {
    aio::Server server = co_await aio::start_server(std::move(cb), "127.0.0.1", 0);
    co_await body(server.port());
    server.close();
    co_await server.wait_closed();
  }(std::move(cb), std::move(body)));
}

}  // namespace

TEST_CASE("an echo over TCP returns every byte in order, in messages of any size", "[net]") {
  std::string received;
  const std::string sent = test::pattern(3 << 20);
  with_server(test::echo_bytes, [&](int port) -> aio::Task<> {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    // Writes of many sizes; reading concurrently so that neither side's
    // buffers fill up.
    auto rd = aio::create_task([](aio::StreamReader r, std::string& out, std::size_t n) -> aio::Task<> {
      while (out.size() < n) {
        std::string chunk = co_await r.read(100000);
        if (chunk.empty()) break;
        out += chunk;
      }
    }(reader, received, sent.size()));
    std::size_t off = 0;
    for (std::size_t step = 1; off < sent.size(); step = step * 3 % 70001 + 1) {
      const std::size_t n = std::min(step, sent.size() - off);
      writer.write(std::string_view(sent).substr(off, n));
      off += n;
      co_await writer.drain();
    }
    co_await rd;
    writer.close();
    co_await writer.wait_closed();
  });
  REQUIRE(received.size() == sent.size());
  REQUIRE(received == sent);
}

TEST_CASE("readline, readuntil, readexactly and read follow asyncio's StreamReader", "[net]") {
  with_server(
      [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
        w.write("line one\nline two\r\nabcDEF|rest");
        w.write_eof();
        co_return;
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        { auto got = co_await r.readline();
  CHECK(got == "line one\n"); }
        { auto got = co_await r.readuntil("\r\n");
  CHECK(got == "line two\r\n"); }
        { auto got = co_await r.readexactly(3);
  CHECK(got == "abc"); }
        { auto got = co_await r.readuntil("|");
  CHECK(got == "DEF|"); }
        CHECK_FALSE(r.at_eof());
        { auto got = co_await r.read();  // everything until EOF
  CHECK(got == "rest"); }
        CHECK(r.at_eof());
        { auto got = co_await r.read(10);
  CHECK(got == ""); }
        { auto got = co_await r.readline();  // at EOF: what is left, ""
  CHECK(got == ""); }
        { auto got = co_await r.readexactly(0);
  CHECK(got == ""); }
      });
}

TEST_CASE("a peer closing mid-read gives IncompleteReadError with the partial bytes, then EOF", "[net]") {
  with_server(
      [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
        w.write(std::string(50, 'p'));
        w.close();
        co_await w.wait_closed();
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        bool thrown = false;
        try {
          (void)co_await r.readexactly(100);
        } catch (const aio::IncompleteReadError& e) {
          thrown = true;
          CHECK(e.partial() == std::string(50, 'p'));
          CHECK(e.expected() == 100);
        }
        CHECK(thrown);
        CHECK(r.at_eof());
        bool until_thrown = false;
        try {
          (void)co_await r.readuntil("x");
        } catch (const aio::IncompleteReadError& e) {
          until_thrown = e.partial().empty() && e.expected() == 0;
        }
        CHECK(until_thrown);
      });
}

TEST_CASE("readuntil past the limit throws LimitOverrunError and consumes nothing; readline throws ValueError",
          "[net]") {
  aio::run([]() -> aio::Task<> {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
          w.write(std::string(100, 'z') + "\nnext\n");
          co_return;
        },
        "127.0.0.1", 0);
    aio::ConnectOptions opts;
    opts.limit = 64;
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    CHECK(r.limit() == 64);
    bool overrun = false;
    try {
      (void)co_await r.readuntil("\n");
    } catch (const aio::LimitOverrunError& e) {
      overrun = true;
      CHECK(e.consumed() == 100);  // the separator was found at 100, past the limit
    }
    CHECK(overrun);
    bool value_error = false;
    try {
      (void)co_await r.readline();
    } catch (const aio::ValueError&) {
      value_error = true;  // the overlong line, through its "\n", is dropped
    }
    CHECK(value_error);
    { auto got = co_await r.readline();
  CHECK(got == "next\n"); }
    bool empty_sep = false;
    try {
      (void)co_await r.readuntil("");
    } catch (const aio::ValueError&) {
      empty_sep = true;
    }
    CHECK(empty_sep);
    server.close();
    co_await server.wait_closed();
  }());
}

TEST_CASE("a read cancelled by wait_for loses no byte: the next readexactly returns all of them in order",
          "[net]") {
  with_server(
      [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
        w.write(test::pattern(50));
        (void)co_await r.readexactly(1);  // the client's go-ahead
        w.write(test::pattern(100).substr(50));
        co_await w.drain();
        (void)co_await r.read();
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        bool timed_out = false;
        try {
          (void)co_await aio::wait_for(r.readexactly(100), 50ms);
        } catch (const aio::TimeoutError&) {
          timed_out = true;
        }
        CHECK(timed_out);
        w.write("g");
        { auto got = co_await r.readexactly(100);
  CHECK(got == test::pattern(100)); }
        w.close();
      });
}

TEST_CASE("write_eof half-closes: the peer reads EOF and can still answer", "[net]") {
  with_server(
      [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
        std::string all = co_await r.read();  // until the client's EOF
        CHECK(r.at_eof());
        w.write("got " + std::to_string(all.size()));
        w.close();
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        CHECK(w.can_write_eof());
        w.write(std::string(1000, 'q'));
        w.write_eof();
        bool refused = false;
        try {
          w.write("late");
        } catch (const aio::RuntimeError&) {
          refused = true;
        }
        CHECK(refused);
        { auto got = co_await r.read();
  CHECK(got == "got 1000"); }
        CHECK(r.at_eof());
      });
}

TEST_CASE("drain waits above the high-water mark until the peer reads, and returns at once below it",
          "[net]") {
  with_server(
      [](aio::StreamReader r, aio::StreamWriter) -> aio::Task<> {
        co_await aio::sleep(100ms);  // the client's buffer fills meanwhile
        std::size_t n = 0;
        for (;;) {
          std::string c = co_await r.read(1 << 20);
          if (c.empty()) break;
          n += c.size();
        }
        CHECK(n == (64u << 20));
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        w.set_write_buffer_limits(1 << 20, 1 << 18);
        w.write("x");
        const auto t0 = std::chrono::steady_clock::now();
        co_await w.drain();  // below the mark: no wait
        CHECK(std::chrono::steady_clock::now() - t0 < 50ms);
        CHECK_THROWS_AS(w.set_write_buffer_limits(1, 2), aio::ValueError);
        bool waited = false;
        std::size_t sent = 1;
        const std::string block((1 << 20) - 1, 'b');
        w.write(block);
        sent += block.size();
        for (int i = 0; i < 63; ++i) {
          w.write(std::string(1 << 20, 'b'));
          sent += 1 << 20;
          if (w.write_buffer_size() > (1u << 20)) waited = true;
          co_await w.drain();
          CHECK(w.write_buffer_size() <= (1u << 20));
        }
        CHECK(sent == (64u << 20));
        CHECK(waited);
        w.close();
        co_await w.wait_closed();
      });
}

TEST_CASE("a refused connection is std::errc::connection_refused and leaves no descriptor open", "[net]") {
  aio::run([]() -> aio::Task<> {
    // A port nobody listens on: bind one, then close it.
    int port = 0;
    {
      aio::Server s = co_await aio::start_server([](aio::StreamReader, aio::StreamWriter) -> aio::Task<> { co_return; },
                                                 "127.0.0.1", 0);
      port = s.port();
      s.close();
      co_await s.wait_closed();
    }
    const std::size_t before = test::open_fds();
    for (int i = 0; i < 20; ++i) {
      bool refused = false;
      try {
        (void)co_await aio::open_connection("127.0.0.1", port);
      } catch (const std::system_error& e) {
        refused = e.code() == std::errc::connection_refused;
      }
      CHECK(refused);
    }
    CHECK(test::open_fds() == before);
  }());
}

TEST_CASE("a reset by the peer makes read, drain and wait_closed throw connection_reset, without SIGPIPE",
          "[net]") {
  with_server(
      [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
        (void)co_await r.readexactly(1);
        // SO_LINGER 0: close(2) sends an RST instead of a FIN.
        linger lg{1, 0};
        ::setsockopt(w.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        w.abort();
        co_await w.wait_closed();
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        w.write("x");
        bool reset = false;
        try {
          (void)co_await r.read();
        } catch (const std::system_error& e) {
          reset = e.code() == std::errc::connection_reset;
        }
        CHECK(reset);
        w.write(std::string(100000, 'y'));  // dropped: the connection is lost (no SIGPIPE either way)
        bool drain_reset = false;
        try {
          co_await w.drain();
        } catch (const std::system_error& e) {
          drain_reset = e.code() == std::errc::connection_reset;
        }
        CHECK(drain_reset);
        bool closed_reset = false;
        try {
          co_await w.wait_closed();
        } catch (const std::system_error& e) {
          closed_reset = e.code() == std::errc::connection_reset;
        }
        CHECK(closed_reset);
      });
}

TEST_CASE("a second task reading while one waits is a RuntimeError", "[net]") {
  with_server(
      [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
        (void)co_await r.read();
        w.close();
      },
      [](int port) -> aio::Task<> {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
        auto first = aio::create_task([](aio::StreamReader r) -> aio::Task<std::string> {
          co_return co_await r.readexactly(5);
        }(r));
        co_await aio::sleep(0ms);
        bool refused = false;
        try {
          (void)co_await r.readexactly(5);
        } catch (const aio::RuntimeError&) {
          refused = true;
        }
        CHECK(refused);
        first.cancel();
        bool cancelled = false;
        try {
          (void)co_await first;
        } catch (const aio::CancelledError&) {
          cancelled = true;
        }
        CHECK(cancelled);
        w.close();
      });
}

TEST_CASE("Unix stream sockets: a stale socket file is replaced and removed at close", "[net]") {
  const std::string path = "/tmp/aio-test-" + std::to_string(::getpid()) + ".sock";
  for (int round = 0; round < 2; ++round) {  // the second finds the first's file gone or stale
    aio::run([&]() -> aio::Task<> {
      aio::Server server = co_await aio::start_unix_server(test::echo_lines, path);
      CHECK(::access(path.c_str(), F_OK) == 0);
      auto [r, w] = co_await aio::open_unix_connection(path);
      w.write("hello unix\n");
      { auto got = co_await r.readline();
  CHECK(got == "hello unix\n"); }
      CHECK(w.get_extra_info("peername").family() == AF_UNIX);
      w.close();
      co_await w.wait_closed();
      server.close();
      co_await server.wait_closed();
      CHECK(::access(path.c_str(), F_OK) != 0);
    }());
  }
  // A stale file (a socket nobody listens on) is replaced.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    const aio::SockAddr a = aio::SockAddr::unix_path(path);
    REQUIRE(::bind(fd, a.data(), a.size()) == 0);
    ::close(fd);
  }
  aio::run([&]() -> aio::Task<> {
    aio::Server server = co_await aio::start_unix_server(test::echo_lines, path);
    auto [r, w] = co_await aio::open_unix_connection(path);
    w.write("again\n");
    { auto got = co_await r.readline();
  CHECK(got == "again\n"); }
    w.close();
  }());
  CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("get_extra_info gives the peer's and our own address", "[net]") {
  with_server(test::echo_lines, [](int port) -> aio::Task<> {
    auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
    CHECK(w.get_extra_info("peername").to_string() == "127.0.0.1:" + std::to_string(port));
    CHECK(w.get_extra_info("sockname").host() == "127.0.0.1");
    CHECK(w.get_extra_info("socket").empty());
    w.close();
  });
}

TEST_CASE("an empty buffer ring ends a multishot recv with ENOBUFS; it is re-armed and no byte is lost", "[net]") {
  using aio::detail::NetEvent;
  using aio::detail::testing::net_events;
  constexpr int kConns = 24;
  constexpr std::size_t kBytes = 512 * 1024;
  const unsigned long enobufs_before = net_events(NetEvent::recv_enobufs);
  int good = 0, done = 0;
  aio::run([&]() -> aio::Task<> {
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader r, aio::StreamWriter) -> aio::Task<> {
          const std::string head = co_await r.readexactly(4);
          const std::string body = co_await r.read();
          good += body == test::pattern(kBytes, static_cast<std::size_t>(std::stoi(head)));
          ++done;
        },
        "127.0.0.1", 0);
    const aio::SockAddr addr = server.sockets()[0];
    std::vector<int> clients;
    for (int i = 0; i < kConns; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      REQUIRE(::connect(fd, addr.data(), addr.size()) == 0);
      char head[8];
      std::snprintf(head, sizeof head, "%03d\n", i);
      REQUIRE(::send(fd, head, 4, MSG_NOSIGNAL) == 4);
      clients.push_back(fd);
    }
    for (int i = 0; i < 5000 && server.connections() != kConns; ++i) co_await aio::sleep(1ms);
    REQUIRE(server.connections() == kConns);
    // Every connection's data arrives while the loop reaps nothing: more
    // than the whole buffer ring (256 x 16 KiB) waits at once.
    std::vector<std::string> bodies;
    std::vector<std::size_t> sent(kConns, 0);
    for (int i = 0; i < kConns; ++i) bodies.push_back(test::pattern(kBytes, static_cast<std::size_t>(i)));
    for (int i = 0; i < kConns; ++i) {
      while (sent[i] < kBytes / 2) {
        const ssize_t n = ::send(clients[i], bodies[i].data() + sent[i], kBytes / 2 - sent[i], MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) break;
        sent[i] += static_cast<std::size_t>(n);
      }
    }
    for (int i = 0; i < kConns; ++i) {
      co_await aio::wait_for(aio::sock_sendall(clients[i], std::string_view(bodies[i]).substr(sent[i])), 10s);
      ::shutdown(clients[i], SHUT_WR);
    }
    for (int i = 0; i < 10000 && done != kConns; ++i) co_await aio::sleep(1ms);
    for (int fd : clients) ::close(fd);
    server.close();
    co_await aio::wait_for(server.wait_closed(), 5s);
  }());
  CHECK(done == kConns);
  CHECK(good == kConns);
  if (aio::detail::net_feature(aio::detail::kBufferRing)) {
    CHECK(net_events(NetEvent::recv_enobufs) > enobufs_before);  // the path above was taken
  }
}

TEST_CASE("a reader paused at its limit gets every byte in order, also the data that beat the pause's cancel",
          "[net]") {
  using aio::detail::NetEvent;
  using aio::detail::testing::net_events;
  const unsigned long before = net_events(NetEvent::recv_data_after_cancel);
  const std::string sent = test::pattern(4 << 20, 5);
  std::string received;
  with_server(
      [&](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
        for (std::size_t off = 0; off < sent.size(); off += 256 * 1024) {
          w.write(std::string_view(sent).substr(off, 256 * 1024));
          co_await w.drain();
        }
        w.close();
        co_await w.wait_closed();
      },
      [&](int port) -> aio::Task<> {
        aio::ConnectOptions opts;
        opts.limit = 1000;  // paused above 2,000 unread bytes: every 16 KiB CQE pauses
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port, opts);
        for (;;) {
          std::string chunk = co_await aio::wait_for(r.read(777), 10s);
          if (chunk.empty()) break;
          received += chunk;
        }
        w.close();
      });
  REQUIRE(received.size() == sent.size());
  CHECK(received == sent);
  if (aio::detail::net_feature(aio::detail::kMultishotRecv)) {
    CHECK(net_events(NetEvent::recv_data_after_cancel) > before);  // the path above was taken
  }
}

TEST_CASE("writing to a peer that closed ends drain with broken_pipe (or connection_reset), without SIGPIPE",
          "[net]") {
  const std::string path = "/tmp/aio-test-pipe-" + std::to_string(::getpid()) + ".sock";
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &old);  // a SIGPIPE would end the test process
  aio::run([&]() -> aio::Task<> {
    aio::Server server = co_await aio::start_unix_server(
        [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
          w.close();
          co_await w.wait_closed();
        },
        path);
    auto [r, w] = co_await aio::open_unix_connection(path);
    { auto got = co_await aio::wait_for(r.read(), 5s);  // the peer is gone
  CHECK(got.empty()); }
    std::error_code code;
    for (int i = 0; i < 100 && !code; ++i) {
      try {
        w.write(std::string(4096, 'z'));
        co_await w.drain();
        co_await aio::sleep(1ms);
      } catch (const std::system_error& e) {
        code = e.code();
      }
    }
    CHECK((code == std::errc::broken_pipe || code == std::errc::connection_reset));
    CHECK(w.is_closing());
    server.close();
    co_await server.wait_closed();
  }());
  ::sigaction(SIGPIPE, &old, nullptr);
}
