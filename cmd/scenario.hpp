#pragma once
// One aio-demo scenario: an example of the asyncio tutorial, written with aio.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace demo {

struct Scenario {
  std::string name;
  std::string summary;
  /// Adds the scenario's options to its subcommand and returns what runs it
  /// (the process exit code).
  std::function<std::function<int()>(CLI::App&)> configure;
};

/// Every scenario, in the order `aio-demo list` shows them.
const std::vector<Scenario>& scenarios();

}  // namespace demo
