// aio-demo, run as a user runs it: a subprocess whose output, exit code and
// timing are checked against what the asyncio tutorial's programs print.

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "process_util.hpp"

namespace {

test::ProcessResult demo(std::vector<std::string> args) {
  args.insert(args.begin(), AIO_DEMO_PATH);
  return test::run_process(args);
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("aio-demo countasync prints One three times, then Two three times after 1 s", "[demo]") {
  const auto r = demo({"countasync"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 7);
  CHECK(Lines(lines.begin(), lines.begin() + 6) == Lines{"One", "One", "One", "Two", "Two", "Two"});
  std::smatch m;
  REQUIRE(std::regex_match(lines[6], m, std::regex(R"(countasync executed in (\d+\.\d\d) seconds\.)")));
  const double secs = std::stod(m[1]);
  CHECK(secs >= 1.00);
  CHECK(secs <= 1.05);
}

TEST_CASE("aio-demo countasync --serial runs the three counts one after the other", "[demo]") {
  const auto r = demo({"countasync", "--serial"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 7);
  CHECK(Lines(lines.begin(), lines.begin() + 6) == Lines{"One", "Two", "One", "Two", "One", "Two"});
  CHECK_THAT(lines[6], Catch::Matches(R"(countasync executed in 3\.0\d seconds\.)"));
}

TEST_CASE("aio-demo wait_for prints timeout! after the inner was cancelled", "[demo]") {
  const auto r = demo({"wait_for", "--timeout", "0.2"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "eternity cancelled");
  CHECK(lines[1] == "timeout!");
  CHECK_THAT(lines[2], Catch::Matches(R"(wait_for took 0\.2\d seconds\.)"));
}

TEST_CASE("aio-demo wait_for prints yay! when the work is shorter than the timeout", "[demo]") {
  const auto r = demo({"wait_for", "--timeout", "1", "--work", "0.05"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "yay!");
  CHECK_THAT(lines[1], Catch::Matches(R"(wait_for took 0\.0\d seconds\.)"));
}

TEST_CASE("aio-demo async-context prints the tutorial's five lines in order", "[demo]") {
  const auto r = demo({"async-context"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.lines() == Lines{"This should be printed before the __aenter__",
                           "__aenter__: Setting up resource1",
                           "Using resource1 => This should be printed after __aenter__ and before __aexit__",
                           "__aexit__: Cleaning up resource1", "This should be printed after the __aexit__"});
}

TEST_CASE("aio-demo async-context --raise shows aexit receiving the exception", "[demo]") {
  const auto r = demo({"async-context", "--raise"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 7);
  CHECK(lines[3] == "__aexit__: got the exception: raised inside the async with body");
  CHECK(lines[4] == "__aexit__: Cleaning up resource1");
  CHECK(lines[6] == "This should be printed after the __aexit__");
}

TEST_CASE("aio-demo loop-overhead prints the average creation and closing costs and the ring flags", "[demo]") {
  const auto r = demo({"loop-overhead", "--iterations", "200", "--entries", "64"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], Catch::Matches(R"(Average event loop creation overhead: \d+\.\d{4} ms)"));
  CHECK_THAT(lines[1], Catch::Matches(R"(Average event loop closing overhead: \d+\.\d{4} ms)"));
  CHECK_THAT(lines[2], Catch::StartsWith("Ring: 64 entries, flags "));
  const auto plain = demo({"loop-overhead", "--iterations", "10", "--taskrun", "plain"});
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.lines()[2], !Catch::Contains("DEFER_TASKRUN") && !Catch::Contains("COOP_TASKRUN"));
}

TEST_CASE("aio-demo list shows every scenario on a line with its description", "[demo]") {
  const auto r = demo({"list"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  for (const char* name : {"countasync", "asyncq", "blocking", "wait_for", "loop-overhead", "async-context"}) {
    const bool found = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.rfind(name, 0) == 0 && l.size() > std::string(name).size() + 10;
    });
    CHECK(found);
  }
}

TEST_CASE("aio-demo --help and each scenario's --help describe the options", "[demo]") {
  const auto top = demo({"--help"});
  CHECK(top.exit_code == 0);
  CHECK_THAT(top.out, Catch::Contains("countasync") && Catch::Contains("Subcommands"));
  const std::vector<std::pair<std::string, std::vector<std::string>>> scenarios = {
      {"countasync", {"--serial"}},
      {"asyncq", {"--nprod", "--ncon", "--seed", "--time-scale"}},
      {"blocking", {"--seconds", "--debug", "--fixed"}},
      {"wait_for", {"--timeout", "--work"}},
      {"loop-overhead", {"--iterations", "--entries"}},
      {"async-context", {"--raise"}},
  };
  for (const auto& [name, options] : scenarios) {
    INFO(name);
    const auto sub = demo({name, "--help"});
    CHECK(sub.exit_code == 0);
    for (const auto& option : options) CHECK_THAT(sub.out, Catch::Contains(option));
  }
}

TEST_CASE("aio-demo's help and errors list choices and ranges as plain words and numbers", "[demo]") {
  const auto overhead = demo({"loop-overhead", "--help"});
  CHECK(overhead.exit_code == 0);
  CHECK_THAT(overhead.out, Catch::Contains("--taskrun ENUM:{auto,coop,defer,plain}=auto"));
  CHECK_THAT(overhead.out, !Catch::Contains("->"));
  const auto bad_mode = demo({"loop-overhead", "--taskrun", "fast"});
  CHECK(bad_mode.exit_code == 2);
  CHECK_THAT(bad_mode.err, Catch::Contains("--taskrun: fast not in {auto,coop,defer,plain}"));

  const auto wait_for = demo({"wait_for", "--help"});
  CHECK(wait_for.exit_code == 0);
  CHECK_THAT(wait_for.out, Catch::Contains("--timeout FLOAT:FLOAT in [0 - 86400]=1"));
  const auto negative = demo({"wait_for", "--timeout", "-1"});
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.err, Catch::Contains("--timeout: Value -1 not in range 0 to 86400 (seconds)"));
  for (const auto* text : {&wait_for.out, &negative.err}) {
    // No number written out to hundreds of digits (DBL_MAX), only short ones.
    CHECK_FALSE(std::regex_search(*text, std::regex(R"(\d{12})")));
  }
}

TEST_CASE("aio-demo rejects an unknown scenario or a bad option value with exit code 2", "[demo]") {
  const auto unknown = demo({"nosuch"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown scenario 'nosuch'"));
  const auto bad_value = demo({"wait_for", "--timeout", "soon"});
  CHECK(bad_value.exit_code == 2);
  CHECK_THAT(bad_value.err, Catch::Contains("--timeout"));
  const auto negative = demo({"loop-overhead", "--entries", "0"});
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.err, Catch::Contains("--entries"));
  const auto none = demo({});
  CHECK(none.exit_code == 2);
  const auto unknown_option = demo({"countasync", "--bogus"});
  CHECK(unknown_option.exit_code == 2);
}

namespace {
/// The lines with their timing figures masked, for comparing runs.
Lines masked(const Lines& lines) {
  Lines out;
  const std::regex number(R"(in \d+\.\d+ seconds)");
  for (const auto& l : lines) out.push_back(std::regex_replace(l, number, "in _ seconds"));
  return out;
}
}  // namespace

TEST_CASE("aio-demo asyncq: producers add items, consumers get each once, then the program completes", "[demo]") {
  const auto r = demo({"asyncq", "-p", "3", "-c", "4", "--seed", "7", "--time-scale", "0.01"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE_FALSE(lines.empty());
  const std::regex sleeping(R"((Producer|Consumer) (\d+) sleeping for (\d+) seconds\.)");
  const std::regex added(R"(Producer (\d) added <([0-9a-f]{10})> to queue\.)");
  const std::regex got(R"(Consumer (\d) got element <([0-9a-f]{10})> in \d+\.\d{5} seconds\.)");
  std::vector<std::string> produced, consumed;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_match(lines[i], m, added)) {
      CHECK(std::stoi(m[1]) < 3);
      produced.push_back(m[2]);
    } else if (std::regex_match(lines[i], m, got)) {
      CHECK(std::stoi(m[1]) < 4);
      consumed.push_back(m[2]);
      // Each item is got after it was added.
      CHECK(std::find(produced.begin(), produced.end(), m[2].str()) != produced.end());
    } else {
      CHECK(std::regex_match(lines[i], m, sleeping));
      if (!m.empty()) CHECK(std::stoi(m[3]) <= 10);
    }
  }
  std::sort(produced.begin(), produced.end());
  std::sort(consumed.begin(), consumed.end());
  CHECK(produced == consumed);
  CHECK_THAT(lines.back(), Catch::Matches(R"(Program completed in \d+\.\d{5} seconds\.)"));
  // main awaits every producer before join: the total is at least the
  // longest producer's sleeps (scaled by 0.01), and stays far from a hang.
  double producer_s[3] = {0, 0, 0};
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_match(l, m, sleeping) && m[1] == "Producer") producer_s[std::stoi(m[2]) % 3] += std::stoi(m[3]) * 0.01;
  }
  std::smatch total;
  REQUIRE(std::regex_match(lines.back(), total, std::regex(R"(Program completed in (\d+\.\d+) seconds\.)")));
  const double longest = *std::max_element(producer_s, producer_s + 3);
  CHECK(std::stod(total[1]) >= longest);
  CHECK(std::stod(total[1]) < longest + 2.0);
}

TEST_CASE("aio-demo asyncq --seed makes the run reproducible", "[demo]") {
  const auto a = demo({"asyncq", "--seed", "444", "--time-scale", "0.01"});
  const auto b = demo({"asyncq", "--seed", "444", "--time-scale", "0.01"});
  const auto c = demo({"asyncq", "--seed", "445", "--time-scale", "0.01"});
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(masked(a.lines()) == masked(b.lines()));
  CHECK(masked(a.lines()) != masked(c.lines()));
}

TEST_CASE("aio-demo asyncq rejects a negative producer count with exit code 2", "[demo]") {
  const auto r = demo({"asyncq", "-p", "-1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--nprod"));
}

namespace {
double seconds_in(const std::string& line) {
  std::smatch m;
  const std::regex re(R"(Time taken: (\d+\.\d\d) seconds)");
  REQUIRE(std::regex_match(line, m, re));
  return std::stod(m[1]);
}
}  // namespace

TEST_CASE("aio-demo blocking: a blocking sleep in each task serialises them", "[demo]") {
  const auto r = demo({"blocking", "--seconds", "0.2"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 5);
  CHECK(Lines(lines.begin(), lines.begin() + 4) == Lines{"Start", "End", "Start", "End"});
  const double s = seconds_in(lines[4]);
  CHECK(s >= 0.40);
  CHECK(s < 0.50);
}

TEST_CASE("aio-demo blocking --debug names the task that held the loop", "[demo]") {
  const auto r = demo({"blocking", "--seconds", "0.2", "--debug"});
  REQUIRE(r.exit_code == 0);
  // asyncio's default names: main is Task-1, the two gathered tasks Task-2 and Task-3.
  CHECK_THAT(r.err, Catch::Matches(R"((.|\n)*Executing <Task name=Task-2> took 0\.2\d\d seconds(.|\n)*)"));
  CHECK_THAT(r.err, Catch::Contains("Executing <Task name=Task-3> took 0.2"));
}

TEST_CASE("aio-demo blocking --fixed shows aio::sleep and aio::to_thread letting both tasks run", "[demo]") {
  const auto r = demo({"blocking", "--seconds", "0.2", "--fixed"});
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 12);
  CHECK(lines[0] == "With aio::sleep:");
  CHECK(Lines(lines.begin() + 1, lines.begin() + 5) == Lines{"Start", "Start", "End", "End"});
  CHECK(seconds_in(lines[5]) < 0.30);
  CHECK(lines[6] == "With aio::to_thread:");
  CHECK(Lines(lines.begin() + 7, lines.begin() + 11) == Lines{"Start", "Start", "End", "End"});
  CHECK(seconds_in(lines[11]) < 0.30);
  CHECK(seconds_in(lines[11]) >= 0.20);
}
