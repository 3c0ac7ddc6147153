// loop.sock_* on descriptors the caller owns, datagram endpoints, the
// resolver and SockAddr.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <aio/aio.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "net_util.hpp"

using namespace std::chrono_literals;

namespace {

// A connected TCP pair over loopback, made with the sock_* calls.
aio::Task<std::pair<int, int>> tcp_pair() {
  const int lst = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  aio::SockAddr any = aio::SockAddr::parse("127.0.0.1:0");
  REQUIRE(::bind(lst, any.data(), any.size()) == 0);
  REQUIRE(::listen(lst, 8) == 0);
  aio::SockAddr bound;
  socklen_t len = aio::SockAddr::capacity();
  ::getsockname(lst, bound.data(), &len);
  bound.resize(len);
  const int cli = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto acc = aio::create_task([](int lst) -> aio::Task<aio::AcceptResult> { co_return co_await aio::sock_accept(lst); }(lst));
  co_await aio::sock_connect(cli, bound);
  aio::AcceptResult a = co_await acc;
  CHECK(a.addr.host() == "127.0.0.1");
  ::close(lst);
  co_return std::pair<int, int>{cli, a.fd};
}

}  // namespace

TEST_CASE("SockAddr parses and prints IPv4, IPv6 and Unix addresses", "[net]") {
  const aio::SockAddr v4 = aio::SockAddr::parse("127.0.0.1:8080");
  CHECK(v4.family() == AF_INET);
  CHECK(v4.port() == 8080);
  CHECK(v4.to_string() == "127.0.0.1:8080");
  const aio::SockAddr v6 = aio::SockAddr::parse("[::1]:443");
  CHECK(v6.family() == AF_INET6);
  CHECK(v6.port() == 443);
  CHECK(v6.to_string() == "[::1]:443");
  const aio::SockAddr un = aio::SockAddr::parse("/run/x.sock");
  CHECK(un.family() == AF_UNIX);
  CHECK(un.to_string() == "/run/x.sock");
  CHECK(aio::SockAddr::parse("@abstract").to_string() == "@abstract");
  CHECK(v4 == aio::SockAddr::inet("127.0.0.1", 8080));
  CHECK(aio::SockAddr().empty());
  CHECK_THROWS_AS(aio::SockAddr::parse("localhost:80"), aio::ValueError);
  CHECK_THROWS_AS(aio::SockAddr::parse("127.0.0.1"), aio::ValueError);
  CHECK_THROWS_AS(aio::SockAddr::parse("::1:80"), aio::ValueError);
  CHECK_THROWS_AS(aio::SockAddr::parse("1.2.3.4:70000"), aio::ValueError);
  CHECK_THROWS_AS(aio::SockAddr::unix_path(std::string(200, 'p')), aio::ValueError);
}

TEST_CASE("sock_recv_into, sock_recv and sock_sendall move every byte in order", "[net]") {
  aio::run([]() -> aio::Task<> {
    auto [a, b] = co_await tcp_pair();
    const std::string sent = test::pattern(2 << 20);
    auto sender = aio::create_task([](int fd, const std::string& s) -> aio::Task<> {
      co_await aio::sock_sendall(fd, s);
      ::shutdown(fd, SHUT_WR);
    }(a, sent));
    std::string got;
    std::vector<std::byte> buf(70000);
    for (;;) {
      const std::size_t n = co_await aio::sock_recv_into(b, buf);
      if (n == 0) break;
      got.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    co_await sender;
    CHECK(got == sent);
    co_await aio::sock_sendall(b, std::string_view("back"));
    std::string back = co_await aio::sock_recv(a, 100);
    CHECK(back == "back");
    ::close(a);
    ::close(b);
  }());
}

TEST_CASE("10,000 cancelled sock_recv calls racing with incoming data lose and duplicate no byte", "[net]") {
  aio::run([]() -> aio::Task<> {
    auto [a, b] = co_await tcp_pair();
    constexpr std::size_t kTotal = 200000;
    const std::string sent = test::pattern(kTotal, 5);
    auto sender = aio::create_task([](int fd, const std::string& s) -> aio::Task<> {
      // Small sends, interleaved with the receiver's cancels.
      for (std::size_t off = 0; off < s.size(); off += 17) {
        co_await aio::sock_sendall(fd, std::string_view(s).substr(off, 17));
        if (off % 340 == 0) co_await aio::sleep(0ms);
      }
      ::shutdown(fd, SHUT_WR);
    }(a, sent));
    // The receiver reads in small pieces; another task cancels it 10,000
    // times at random points. A recv the cancel reached ends with
    // CancelledError; one that completed first keeps its bytes (the
    // cancellation then comes at the next await).
    std::string got;
    int cancelled = 0;
    auto receiver = aio::create_task([](int fd, std::string& got, int& cancelled) -> aio::Task<> {
      for (;;) {
        try {
          std::string part = co_await aio::sock_recv(fd, 13);
          if (part.empty()) co_return;
          got += part;
        } catch (const aio::CancelledError&) {
          ++cancelled;
        }
      }
    }(b, got, cancelled));
    std::uint32_t rng = 12345;
    for (int i = 0; i < 10000 && !receiver.done(); ++i) {
      rng = rng * 1103515245 + 12345;
      for (std::uint32_t k = (rng >> 16) % 3; k > 0; --k) co_await aio::sleep(0ms);
      receiver.cancel();
    }
    while (!receiver.done()) co_await aio::sleep(1ms);  // it ends at EOF (maybe cancelled, if a cancel came last)
    for (;;) {
      std::string part = co_await aio::sock_recv(b, 4096);
      if (part.empty()) break;
      got += part;
    }
    co_await sender;
    CHECK(cancelled > 100);
    REQUIRE(got.size() == sent.size());
    CHECK(got == sent);
    ::close(a);
    ::close(b);
  }());
}

TEST_CASE("a connect to a port nobody listens on is connection_refused", "[net]") {
  aio::run([]() -> aio::Task<> {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    aio::SockAddr any = aio::SockAddr::parse("127.0.0.1:0");
    ::bind(probe, any.data(), any.size());
    socklen_t len = aio::SockAddr::capacity();
    aio::SockAddr bound;
    ::getsockname(probe, bound.data(), &len);
    bound.resize(len);
    ::close(probe);  // bound, never listened: refused
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool refused = false;
    try {
      co_await aio::sock_connect(fd, bound);
    } catch (const std::system_error& e) {
      refused = e.code() == std::errc::connection_refused;
    }
    CHECK(refused);
    ::close(fd);
  }());
}

TEST_CASE("datagram endpoints exchange datagrams, each whole and with its sender", "[net]") {
  aio::run([]() -> aio::Task<> {
    aio::DatagramOptions so;
    so.local_addr = aio::SockAddr::parse("127.0.0.1:0");
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint(so);
    const aio::SockAddr server_addr = server.get_extra_info("sockname");
    CHECK(server_addr.port() != 0);
    auto echo = aio::create_task([](aio::DatagramEndpoint& s) -> aio::Task<> {
      for (int i = 0; i < 100; ++i) {
        aio::Datagram d = co_await s.recvfrom();
        co_await s.sendto(d.data, d.from);
      }
    }(server));
    aio::DatagramOptions co;
    co.remote_addr = server_addr;
    aio::DatagramEndpoint client = co_await aio::create_datagram_endpoint(co);
    CHECK(client.get_extra_info("peername") == server_addr);
    for (int i = 0; i < 100; ++i) {
      const std::string msg = test::pattern(static_cast<std::size_t>(1 + i * 97), i);
      co_await client.sendto(msg);  // connected: no address
      aio::Datagram d = co_await aio::wait_for(client.recvfrom(), 5s);
      CHECK(d.data == msg);
      CHECK(d.from == server_addr);
    }
    co_await echo;
    client.close();
    CHECK_THROWS_AS(co_await client.recvfrom(), aio::RuntimeError);
  }());
}

TEST_CASE("sock_sendall to a closed peer is broken_pipe and raises no SIGPIPE", "[net]") {
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &old);  // a SIGPIPE would end the test process
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  ::close(sv[1]);
  aio::run([&]() -> aio::Task<> {
    bool broken = false;
    try {
      co_await aio::sock_sendall(sv[0], "nobody reads this");
    } catch (const std::system_error& e) {
      broken = e.code() == std::errc::broken_pipe;
    }
    CHECK(broken);
  }());
  ::close(sv[0]);
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST_CASE("a datagram after a longer one holds only its own bytes; two recvfrom at once get one datagram each",
          "[net]") {
  aio::run([]() -> aio::Task<> {
    aio::DatagramOptions so;
    so.local_addr = aio::SockAddr::parse("127.0.0.1:0");
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint(so);
    aio::DatagramOptions co;
    co.remote_addr = server.get_extra_info("sockname");
    aio::DatagramEndpoint client = co_await aio::create_datagram_endpoint(co);
    // Largest first, then shorter and shorter, an empty one last: the
    // endpoint's one receive buffer is reused and never cleared.
    const std::size_t sizes[] = {65507, 40000, 1000, 17, 1, 0};
    for (std::size_t i = 0; i < std::size(sizes); ++i) {
      const std::string msg = test::pattern(sizes[i], i);
      co_await client.sendto(msg);
      aio::Datagram d = co_await aio::wait_for(server.recvfrom(), 5s);
      CHECK(d.data.size() == sizes[i]);
      CHECK(d.data == msg);
      CHECK(d.from == client.get_extra_info("sockname"));
    }
    // Two receives pending on one endpoint at once: each gets its own
    // datagram, whole (they cannot share one buffer).
    auto a = aio::create_task(server.recvfrom());
    auto b = aio::create_task(server.recvfrom());
    co_await aio::sleep(0ms);  // both are in the kernel
    const std::string one = test::pattern(30000, 1), two = test::pattern(20000, 2);
    co_await client.sendto(one);
    co_await client.sendto(two);
    aio::Datagram da = co_await aio::wait_for(std::move(a), 5s);
    aio::Datagram db = co_await aio::wait_for(std::move(b), 5s);
    CHECK(((da.data == one && db.data == two) || (da.data == two && db.data == one)));
    // And the endpoint still receives afterwards.
    co_await client.sendto("after");
    aio::Datagram d = co_await aio::wait_for(server.recvfrom(), 5s);
    CHECK(d.data == "after");
  }());
}

TEST_CASE("getaddrinfo resolves localhost and names an unknown host's error", "[net][thread]") {
  aio::run([]() -> aio::Task<> {
    std::vector<aio::SockAddr> v = co_await aio::getaddrinfo("localhost", 80, AF_INET);
    REQUIRE_FALSE(v.empty());
    CHECK(v[0].to_string() == "127.0.0.1:80");
    std::vector<aio::SockAddr> numeric = co_await aio::getaddrinfo("::1", 8080);
    REQUIRE(numeric.size() == 1);
    CHECK(numeric[0].family() == AF_INET6);
    bool failed = false;
    try {
      (void)co_await aio::getaddrinfo("no-such-host.invalid", 80);
    } catch (const std::system_error& e) {
      failed = e.code().category() == aio::gai_category();
      CHECK(std::string(e.what()).find("no-such-host.invalid") != std::string::npos);
    }
    CHECK(failed);
    bool refused = false;
    try {
      (void)co_await aio::open_connection("no-such-host.invalid", 80);
    } catch (const std::system_error& e) {
      refused = e.code().category() == aio::gai_category();
    }
    CHECK(refused);
  }());
}
