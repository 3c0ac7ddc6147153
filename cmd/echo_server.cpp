// The TCP echo server of the asyncio documentation ("Streams"):
//
//   async def handle_echo(reader, writer):
//       data = await reader.read(100)
//       message = data.decode()
//       addr = writer.get_extra_info('peername')
//       print(f"Received {message!r} from {addr!r}")
//       print(f"Send: {message!r}")
//       writer.write(data)
//       await writer.drain()
//       print("Close the connection")
//       writer.close()
//       await writer.wait_closed()
//
//   async def main():
//       server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888)
//       addrs = ', '.join(str(sock.getsockname()) for sock in server.sockets)
//       print(f'Serving on {addrs}')
//       async with server:
//           await server.serve_forever()
//
// With a graceful shutdown on SIGINT and SIGTERM added, as a service needs it:
//
//       stop = asyncio.Event()
//       for sig in (signal.SIGINT, signal.SIGTERM):
//           loop.add_signal_handler(sig, stop.set)
//       await stop.wait()            # instead of serve_forever()
//       server.close()               # new connections are refused from here
//       try:
//           await asyncio.wait_for(server.wait_closed(), grace)
//       except TimeoutError:
//           ...cancel the handlers still running; server.abort_clients()
//
// The first signal also restores both signals' default action, so a second
// one ends the process at once, killed by that signal (asyncio.Runner's
// second Ctrl-C), whatever the connections are doing.

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
#include "echo_common.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8888;
  std::string unix_path;
  int count = 0;       // connections to serve before closing; 0: forever
  double grace = 5.0;  // seconds open connections get after SIGINT/SIGTERM
};

struct ServerState {
  int left = 0;  // connections still to serve when counting
  aio::Event done;  // set when --count is reached or at the first signal
  int signal = 0;   // the signal that stopped the server, 0 if none
  std::vector<aio::AnyTaskHandle> handlers;  // connections being served, to cancel after the grace period
};

// A handler's entry in ServerState::handlers, for as long as its body runs
// (also when it ends by cancellation: locals go before the task completes).
struct Tracked {
  ServerState* state;
  aio::AnyTaskHandle task = aio::current_task();
  explicit Tracked(ServerState* s) : state(s) { state->handlers.push_back(task); }
  ~Tracked() { std::erase(state->handlers, task); }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
};

// `state` shared: a handler still running when serve() returns (cancelled,
// ending only as the loop closes) must not touch freed memory.
aio::Task<> handle_echo(aio::StreamReader reader, aio::StreamWriter writer, std::shared_ptr<ServerState> state) {
  const Tracked tracked(state.get());
  try {
    const std::string data = co_await reader.read(100);
    const std::string addr = echo::py_addr(writer.get_extra_info("peername"), true);
    echo::say("Received " + echo::repr(data) + " from " + addr);
    echo::say("Send: " + echo::repr(data));
    writer.write(data);
    co_await writer.drain();
    echo::say("Close the connection");
    writer.close();
    co_await writer.wait_closed();
  } catch (const std::exception& e) {
    // One client's failure (a reset, say) ends its connection, not the server.
    std::fprintf(stderr, "aio-demo echo-server: connection failed: %s\n", e.what());
  }
  if (state->left > 0 && --state->left == 0) state->done.set();
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }

std::string connections_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " connection" : " connections");
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

aio::Task<int> serve(ServerConfig cfg) {
  auto state = std::make_shared<ServerState>();
  state->left = cfg.count;
  ServerState* st = state.get();
  auto cb = [state](aio::StreamReader r, aio::StreamWriter w) { return handle_echo(std::move(r), std::move(w), state); };
  std::optional<aio::Server> server;
  try {
    if (cfg.unix_path.empty()) {
      server.emplace(co_await aio::start_server(cb, cfg.host, cfg.port));
    } else {
      server.emplace(co_await aio::start_unix_server(cb, cfg.unix_path));
    }
  } catch (const std::system_error& e) {
    co_return echo::fail("echo-server", "cannot listen on " + echo::where(cfg.host, cfg.port, cfg.unix_path), e);
  }
  // Before "Serving on": whoever saw that line and signals us reaches these
  // handlers. They replace aio::run's own Ctrl-C rule for SIGINT.
  aio::EventLoop& loop = aio::get_running_loop();
  // Removed on every way out: the handlers point into `state`.
  struct Unregister {
    aio::EventLoop& loop;
    ~Unregister() {
      loop.remove_signal_handler(SIGINT);
      loop.remove_signal_handler(SIGTERM);
    }
  } const unregister{loop};
  for (const int sig : {SIGINT, SIGTERM}) {
    loop.add_signal_handler(sig, [st, sig, &loop] {
      // From here a second SIGINT or SIGTERM takes its default action.
      loop.remove_signal_handler(SIGINT);
      loop.remove_signal_handler(SIGTERM);
      st->signal = sig;
      st->done.set();
    });
  }
  std::string addrs;
  for (const aio::SockAddr& a : server->sockets()) addrs += (addrs.empty() ? "" : ", ") + echo::py_addr(a, false);
  echo::say("Serving on " + addrs);
  // Serving started with start_server; wait for the stop (serve_forever's place).
  co_await st->done.wait();
  server->close();  // listening sockets closed: new connections are refused
  if (st->signal == 0) {
    co_await server->wait_closed();  // --count: the last handler has ended
    co_return 0;
  }
  echo::say(std::string("Shutting down on ") + signal_name(st->signal) + ": waiting up to " +
            seconds_text(cfg.grace) + " for " + connections_text(server->connections()));
  bool finished = true;
  try {
    co_await aio::wait_for(server->wait_closed(), cfg.grace);
  } catch (const aio::TimeoutError&) {
    finished = false;
  }
  if (!finished) {
    echo::say("Grace period over: closing " + connections_text(server->connections()));
    // Cancelled in their read, the handlers print nothing more; aborting
    // drops what the connections had not sent.
    const std::vector<aio::AnyTaskHandle> running = st->handlers;
    for (const aio::AnyTaskHandle& h : running) h.cancel();
    server->abort_clients();
    try {
      co_await aio::wait_for(server->wait_closed(), 1.0);
    } catch (const aio::TimeoutError&) {
      std::fputs("aio-demo echo-server: connections still open at exit\n", stderr);
    }
  }
  co_return 0;
}

}  // namespace

Scenario echo_server_scenario() {
  return {"echo-server",
          "asyncio's TCP echo server: start_server, read(100), write back, close; SIGINT (Ctrl-C) or SIGTERM stops "
          "it gracefully",
          [](CLI::App& app) -> std::function<int()> {
            auto cfg = std::make_shared<ServerConfig>();
            app.add_option("--host", cfg->host, "address to listen on")->capture_default_str();
            app.add_option("--port", cfg->port, "TCP port (0: any free port, shown in \"Serving on\")")
                ->check(CLI::Range(0, 65535))
                ->capture_default_str();
            app.add_option("--unix", cfg->unix_path, "listen on this Unix socket path instead of TCP");
            app.add_option("--count", cfg->count, "close the server after this many connections (0: serve forever)")
                ->check(CLI::NonNegativeNumber)
                ->capture_default_str();
            app.add_option("--grace", cfg->grace,
                           "seconds open connections get to finish after SIGINT or SIGTERM; those still open then "
                           "are closed (a second signal ends the server at once)")
                ->check(CLI::NonNegativeNumber)
                ->capture_default_str();
            app.footer(
                "On SIGINT or SIGTERM the server stops accepting (new connections are refused), prints \"Shutting "
                "down on SIGTERM: waiting up to 5 s for N connections\", lets open connections finish for --grace "
                "seconds, closes the rest (\"Grace period over: closing N connections\") and exits 0. A second "
                "SIGINT or SIGTERM meanwhile ends it at once, killed by that signal (exit status 130 or 143 in a "
                "shell), as asyncio.run's second Ctrl-C.");
            return [cfg] { return aio::run(serve(*cfg)); };
          }};
}

}  // namespace demo
