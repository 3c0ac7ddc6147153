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

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "aio/aio.hpp"
#include "echo_common.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8888;
  std::string unix_path;
  int count = 0;  // connections to serve before closing; 0: forever
};

struct ServerState {
  int left = 0;  // connections still to serve when counting
  aio::Event done;
};

aio::Task<> handle_echo(aio::StreamReader reader, aio::StreamWriter writer, ServerState* state) {
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

aio::Task<int> serve(ServerConfig cfg) {
  auto state = std::make_unique<ServerState>();
  state->left = cfg.count;
  ServerState* st = state.get();
  auto cb = [st](aio::StreamReader r, aio::StreamWriter w) { return handle_echo(std::move(r), std::move(w), st); };
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
  std::string addrs;
  for (const aio::SockAddr& a : server->sockets()) addrs += (addrs.empty() ? "" : ", ") + echo::py_addr(a, false);
  echo::say("Serving on " + addrs);
  // async with server: serve until closed; aexit closes it and waits for
  // every connection to end.
  co_await aio::async_with(*server, [st, count = cfg.count](aio::Server& s) -> aio::Task<> {
    if (count == 0) {
      co_await s.serve_forever();
    } else {
      co_await st->done.wait();
    }
  });
  co_return 0;
}

}  // namespace

Scenario echo_server_scenario() {
  return {"echo-server", "asyncio's TCP echo server: start_server, read(100), write back, close (Ctrl-C stops it)",
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
            return [cfg] { return aio::run(serve(*cfg)); };
          }};
}

}  // namespace demo
