// aio-demo <scenario>: the examples of the asyncio tutorial, written with aio.

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "aio/errors.hpp"
#include "scenarios.hpp"

namespace demo {

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = {
      countasync_scenario(),    asyncq_scenario(),        blocking_scenario(), wait_for_scenario(),
      loop_overhead_scenario(), async_context_scenario(),
#ifdef AIO_DEMO_NET  // the networking examples, once the library has networking
      echo_server_scenario(),   echo_client_scenario(),
#endif
  };
  return all;
}

}  // namespace demo

int main(int argc, char** argv) {
  CLI::App app{"aio-demo: the asyncio tutorial's examples, written with aio (asyncio for C++20 on io_uring)"};
  app.require_subcommand(1);
  std::function<int()> run;

  auto* list = app.add_subcommand("list", "list the scenarios, one line each");
  list->callback([&run] {
    run = [] {
      for (const auto& s : demo::scenarios()) std::printf("%-14s %s\n", s.name.c_str(), s.summary.c_str());
      return 0;
    };
  });
  for (const auto& s : demo::scenarios()) {
    auto* sub = app.add_subcommand(s.name, s.summary);
    auto runner = std::make_shared<std::function<int()>>(s.configure(*sub));
    sub->callback([&run, runner] { run = *runner; });
  }

  // A clear word for the most common mistake, before CLI11's generic one.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string name = argv[1];
    bool known = name == "list";
    for (const auto& s : demo::scenarios()) known = known || s.name == name;
    if (!known) {
      std::fprintf(stderr, "aio-demo: unknown scenario '%s'; `aio-demo list` shows them all\n", name.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // bad usage: exit 2, as argparse does
  }
  std::fflush(stdout);
  try {
    return run();
  } catch (const aio::KeyboardInterrupt&) {
    // Ctrl-C ended aio::run: end as SIGINT does (status 130 in a shell), as
    // Python does after a KeyboardInterrupt it did not catch.
    std::fflush(stdout);
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return 130;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "aio-demo: error: %s\n", e.what());
    return 1;
  }
}
