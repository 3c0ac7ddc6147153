// The TCP echo client of the asyncio documentation ("Streams"):
//
//   async def tcp_echo_client(message):
//       reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//       print(f'Send: {message!r}')
//       writer.write(message.encode())
//       await writer.drain()
//       data = await reader.read(100)
//       print(f'Received: {data.decode()!r}')
//       print('Close the connection')
//       writer.close()
//       await writer.wait_closed()
//
//   asyncio.run(tcp_echo_client('Hello World!'))

#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "aio/aio.hpp"
#include "echo_common.hpp"
#include "scenarios.hpp"

namespace demo {
namespace {

struct ClientConfig {
  std::string host = "127.0.0.1";
  int port = 8888;
  std::string unix_path;
  std::string message = "Hello World!";
};

aio::Task<int> tcp_echo_client(ClientConfig cfg) {
  std::optional<aio::StreamPair> conn;
  try {
    if (cfg.unix_path.empty()) {
      conn.emplace(co_await aio::open_connection(cfg.host, cfg.port));
    } else {
      conn.emplace(co_await aio::open_unix_connection(cfg.unix_path));
    }
  } catch (const std::system_error& e) {
    co_return echo::fail("echo-client", "cannot connect to " + echo::where(cfg.host, cfg.port, cfg.unix_path), e);
  }
  auto& [reader, writer] = *conn;
  try {
    echo::say("Send: " + echo::repr(cfg.message));
    writer.write(cfg.message);
    co_await writer.drain();

    const std::string data = co_await reader.read(100);
    echo::say("Received: " + echo::repr(data));

    echo::say("Close the connection");
    writer.close();
    co_await writer.wait_closed();
  } catch (const std::system_error& e) {
    co_return echo::fail("echo-client", "connection to " + echo::where(cfg.host, cfg.port, cfg.unix_path) + " failed", e);
  }
  co_return 0;
}

}  // namespace

Scenario echo_client_scenario() {
  return {"echo-client", "asyncio's TCP echo client: open_connection, send --message, print the echo, close",
          [](CLI::App& app) -> std::function<int()> {
            auto cfg = std::make_shared<ClientConfig>();
            app.add_option("--host", cfg->host, "server address or name")->capture_default_str();
            app.add_option("--port", cfg->port, "server TCP port")->check(CLI::Range(1, 65535))->capture_default_str();
            app.add_option("--unix", cfg->unix_path, "connect to this Unix socket path instead of TCP");
            app.add_option("--message", cfg->message, "the text to send")->capture_default_str();
            return [cfg] { return aio::run(tcp_echo_client(*cfg)); };
          }};
}

}  // namespace demo
