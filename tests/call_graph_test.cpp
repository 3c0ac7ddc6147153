// Call graphs: format_call_graph, print_call_graph, print_stack,
// EventLoop::dump_tasks, LoopOptions::dump_tasks_on, and the slow-step
// report's resume site.

#include <csignal>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "aio/aio.hpp"
#include "process_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// One call-stack entry as format_call_graph writes it, at `indent` spaces.
// The function is matched by its last component: g++ qualifies it
// ("cg::leaf"), clang gives the bare name.
std::string entry_re(int indent, int line, const std::string& function) {
  return std::string(static_cast<std::size_t>(indent), ' ') + R"(  \|   File ')" + __FILE__ + "', line " +
         std::to_string(line) + ", in async (cg::)?" + function + R"(\(\))";
}

std::string header_re(int indent, const std::string& name) {
  return std::string(static_cast<std::size_t>(indent), ' ') + R"(\* Task\(name=')" + name + R"(', id=0x[0-9a-f]+\))";
}

bool matches(const std::string& line, const std::string& re) { return std::regex_match(line, std::regex(re)); }

}  // namespace

namespace cg {

// Each site is a constant, so a test that runs alone (each CTest does) or
// in a child process knows it without running the coroutine first.
const int leaf_line = __LINE__ + 2;  // the line of the co_await (or call) below
aio::Task<int> leaf(aio::Event& ev) {
  co_await ev.wait();
  co_return 1;
}

const int middle_line = __LINE__ + 2;  // the line of the co_await (or call) below
aio::Task<int> middle(aio::Event& ev) {
  const int v = co_await leaf(ev);
  co_return v + 1;
}

const int outer_line = __LINE__ + 2;  // the line of the co_await (or call) below
aio::Task<int> outer(aio::Event& ev) {
  const int v = co_await middle(ev);
  co_return v + 1;
}

const int watcher_line = __LINE__ + 2;  // the line of the co_await (or call) below
aio::Task<int> watcher(aio::TaskHandle<int> h) {
  const int v = co_await h;
  co_return v;
}

const int print_line = __LINE__ + 3;  // the line of the co_await (or call) below
aio::Task<> prints(std::ostream& os) {
  co_await aio::sleep(0s);  // a co_await before: its line must not show
  aio::print_call_graph(os);
}

const int print_caller_line = __LINE__ + 2;  // the line of the co_await (or call) below
aio::Task<> calls_prints(std::ostream& os) {
  co_await prints(os);
}

const int slow_line = __LINE__ + 2;  // the line of the co_await (or call) below
aio::Task<> slow_after_sleep() {
  co_await aio::sleep(1ms);
  std::this_thread::sleep_for(60ms);  // holds the loop: the debug report
}

aio::Task<> wait_forever(aio::Event& ev) { co_await ev.wait(); }

}  // namespace cg

TEST_CASE("format_call_graph lists a task's suspended coroutines innermost first, then the tasks awaiting it",
          "[call_graph]") {
  aio::EventLoop loop;
  std::string graph;
  loop.run_until_complete([&]() -> aio::Task<> {
    aio::Event ev;
    auto deep = aio::create_task(cg::outer(ev), "deep");
    auto w = aio::create_task(cg::watcher(deep), "watcher");
    co_await aio::sleep(0s);  // both start and park
    graph = aio::format_call_graph(deep);
    std::ostringstream stack;
    deep.print_stack(stack);
    CHECK(stack.str() == graph + "\n");
    ev.set();
    CHECK(co_await w == 3);
  }());
  INFO(graph);
  const auto lines = split_lines(graph);
  REQUIRE(lines.size() == 9);
  CHECK(matches(lines[0], header_re(0, "deep")));
  CHECK(lines[1] == "  + Call stack:");
  CHECK(matches(lines[2], entry_re(0, cg::leaf_line, "leaf")));
  CHECK(matches(lines[3], entry_re(0, cg::middle_line, "middle")));
  CHECK(matches(lines[4], entry_re(0, cg::outer_line, "outer")));
  CHECK(lines[5] == "  + Awaited by:");
  CHECK(matches(lines[6], header_re(4, "watcher")));
  CHECK(lines[7] == "      + Call stack:");
  CHECK(matches(lines[8], entry_re(4, cg::watcher_line, "watcher")));
}

TEST_CASE("print_call_graph inside a task starts at the line that calls it", "[call_graph]") {
  aio::EventLoop loop;
  std::ostringstream os;
  loop.run_until_complete(loop.create_task(cg::calls_prints(os), "printer"));
  INFO(os.str());
  const auto lines = split_lines(os.str());
  REQUIRE(lines.size() == 4);
  CHECK(matches(lines[0], header_re(0, "printer")));
  CHECK(lines[1] == "  + Call stack:");
  CHECK(matches(lines[2], entry_re(0, cg::print_line, "prints")));
  CHECK(matches(lines[3], entry_re(0, cg::print_caller_line, "calls_prints")));
  CHECK(os.str().back() == '\n');
}

TEST_CASE("print_call_graph outside a task prints an empty line; outside a loop it throws", "[call_graph]") {
  CHECK_THROWS_AS(aio::format_call_graph(), aio::RuntimeError);
  aio::EventLoop loop;
  std::ostringstream os;
  loop.call_soon([&] { aio::print_call_graph(os); });
  loop.run_until_complete([]() -> aio::Task<> { co_await aio::sleep(1ms); }());
  CHECK(os.str() == "\n");
}

TEST_CASE("gather and TaskGroup children are awaited by the task that waits for them", "[call_graph]") {
  aio::EventLoop loop;
  std::string of_gathered, of_grouped;
  loop.run_until_complete(loop.create_task(
      [&]() -> aio::Task<> {
        aio::Event ev;
        auto a = aio::create_task(cg::wait_forever(ev), "gathered");
        auto probe = aio::create_task([&]() -> aio::Task<> {
          co_await aio::sleep(0s);
          of_gathered = aio::format_call_graph(a);
          co_await aio::sleep(0s);
          ev.set();
        });  // the callable: create_task keeps it (and its captures) alive
        co_await aio::gather(a, probe);
        aio::Event ev2;
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
          auto child = tg.create_task(cg::wait_forever(ev2), "grouped");
          co_await aio::sleep(0s);
          of_grouped = aio::format_call_graph(child);
          ev2.set();
        });
      }(),
      "parent"));
  INFO(of_gathered);
  INFO(of_grouped);
  CHECK(std::regex_search(of_gathered, std::regex(R"(\+ Awaited by:\n    \* Task\(name='parent')")));
  CHECK(std::regex_search(of_grouped, std::regex(R"(\+ Awaited by:\n    \* Task\(name='parent')")));
}

TEST_CASE("two tasks awaiting each other are shown once each, not followed around", "[call_graph]") {
  aio::EventLoop loop;
  std::string graph;
  loop.run_until_complete([&]() -> aio::Task<> {
    aio::TaskHandle<> b;
    auto a = aio::create_task([&]() -> aio::Task<> {
      co_await aio::sleep(0s);
      co_await b;
    }, "A");
    // B waits for A with a timeout (aio::wait cancels nothing): the cycle ends.
    b = aio::create_task([&]() -> aio::Task<> {
      std::vector<aio::TaskHandle<>> of_a;  // named: no initializer_list inside co_await (g++ 12)
      of_a.push_back(a);
      (void)co_await aio::wait(std::move(of_a), aio::ReturnWhen::all_completed, 50ms);
    }, "B");
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
    graph = aio::format_call_graph(a);
    co_await aio::gather(a, b);
  }());
  INFO(graph);
  const auto lines = split_lines(graph);
  REQUIRE(lines.size() >= 4);
  CHECK(matches(lines[0], header_re(0, "A")));
  CHECK_THAT(graph, Catch::Contains("  + Awaited by:\n    * Task(name='B'"));
  CHECK_THAT(graph, Catch::Contains("      + Awaited by:\n        * Task(name='A'"));
  CHECK_THAT(graph, Catch::EndsWith(") (a cycle: already above)"));
}

TEST_CASE("a finished task's graph is its header alone; an empty handle's is empty", "[call_graph]") {
  aio::EventLoop loop;
  auto h = loop.create_task([]() -> aio::Task<int> { co_return 1; }(), "quick");
  loop.run_until_complete(h);
  CHECK(matches(aio::format_call_graph(h), header_re(0, "quick")));
  CHECK(aio::format_call_graph(aio::AnyTaskHandle()).empty());
}

TEST_CASE("dump_tasks lists every live task with its name, state and call graph", "[call_graph]") {
  aio::EventLoop loop;
  std::ostringstream os;
  loop.run_until_complete(loop.create_task(
      [&]() -> aio::Task<> {
        aio::Event ev;
        auto deep = aio::create_task(cg::outer(ev), "deep");
        auto w = aio::create_task(cg::watcher(deep), "watcher");
        co_await aio::sleep(0s);
        auto fresh = aio::create_task(cg::wait_forever(ev), "fresh");
        aio::get_running_loop().dump_tasks(os);
        ev.set();
        co_await aio::gather(w, fresh);
      }(),
      "main"));
  const std::string dump = os.str();
  INFO(dump);
  CHECK_THAT(dump, Catch::StartsWith("aio: 4 live tasks\n"));
  CHECK_THAT(dump, Catch::Contains("\nTask 'main': running\n* Task(name='main'"));
  CHECK_THAT(dump, Catch::Contains("\nTask 'deep': waiting\n* Task(name='deep'"));
  CHECK_THAT(dump, Catch::Contains("\nTask 'watcher': waiting\n* Task(name='watcher'"));
  CHECK_THAT(dump, Catch::Contains("\nTask 'fresh': not started\n* Task(name='fresh'"));
  CHECK(std::regex_search(dump, std::regex(entry_re(0, cg::leaf_line, "leaf"))));
  // The loop is idle afterwards: nothing is left to list.
  std::ostringstream after;
  loop.dump_tasks(after);
  CHECK(after.str() == "aio: 0 live tasks\n");
}

TEST_CASE("LoopOptions::dump_tasks_on: the signal makes the loop dump its tasks to stderr", "[call_graph][signals]") {
  const std::string result = test::in_child([]() -> std::string {
    aio::EventLoop loop(aio::LoopOptions{.dump_tasks_on = SIGUSR1});
    test::StderrCapture err;
    loop.run_until_complete(loop.create_task(
        []() -> aio::Task<> {
          aio::Event ev;
          auto stuck = aio::create_task(cg::outer(ev), "stuck");
          co_await aio::sleep(0s);
          std::raise(SIGUSR1);
          co_await aio::sleep(20ms);  // the dump runs on the loop meanwhile
          ev.set();
          co_await stuck;
        }(),
        "main"));
    return err.text();
  });
  INFO(result);
  CHECK_THAT(result, Catch::StartsWith("aio: 2 live tasks\n"));
  CHECK_THAT(result, Catch::Contains("\nTask 'stuck': waiting\n* Task(name='stuck'"));
  CHECK(std::regex_search(result, std::regex(entry_re(0, cg::leaf_line, "leaf"))));
  CHECK(std::regex_search(result, std::regex(entry_re(0, cg::outer_line, "outer"))));
}

TEST_CASE("LoopOptions::dump_tasks_on refuses an invalid signal", "[call_graph][signals]") {
  CHECK_THROWS_AS(aio::EventLoop(aio::LoopOptions{.dump_tasks_on = SIGKILL}), aio::ValueError);
  CHECK_THROWS_AS(aio::EventLoop(aio::LoopOptions{.dump_tasks_on = -3}), aio::ValueError);
  CHECK_THROWS_AS(aio::EventLoop(aio::LoopOptions{.dump_tasks_on = 4096}), aio::ValueError);
}

TEST_CASE("debug mode's slow-step report names the co_await the step resumed from", "[call_graph][debug]") {
  aio::EventLoop loop;
  loop.set_debug(true);
  loop.set_slow_callback_duration(30ms);
  test::StderrCapture err;
  loop.run_until_complete(loop.create_task(cg::slow_after_sleep(), "sloth"));
  const std::string text = err.text();
  INFO(text);
  CHECK(std::regex_search(
      text, std::regex(R"(Executing <Task name=sloth> took \d+\.\d{3} seconds\n  the step resumed from File ')" +
                       std::string(__FILE__) + "', line " + std::to_string(cg::slow_line) +
                       R"(, in (cg::)?slow_after_sleep\(\)\n)")));
}
