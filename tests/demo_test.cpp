// aio-demo, run as a user runs it: a subprocess whose output, exit code and
// timing are checked against what the asyncio tutorial's programs print.

#include <catch2/catch.hpp>

#include <unistd.h>

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
  CHECK_THAT(lines[2], Catch::StartsWith("Ring: 64 entries, flags ") && Catch::EndsWith("reused from loop to loop"));
  const auto fresh = demo({"loop-overhead", "--iterations", "50", "--fresh-ring"});
  REQUIRE(fresh.exit_code == 0);
  REQUIRE(fresh.lines().size() == 3);
  CHECK_THAT(fresh.lines()[0], Catch::Matches(R"(Average event loop creation overhead: \d+\.\d{4} ms)"));
  CHECK_THAT(fresh.lines()[2], Catch::EndsWith("a fresh ring per loop"));
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
      {"loop-overhead", {"--iterations", "--entries", "--fresh-ring"}},
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

TEST_CASE("without io_uring, aio-demo prints one clear line and exits 1; the tests report skipped", "[demo]") {
  for (const char* err : {"ENOSYS", "EPERM"}) {
    INFO(err);
    const auto r = test::run_process({AIO_NO_IO_URING_PATH, err, AIO_DEMO_PATH, "countasync"});
    if (r.exit_code == 77) continue;  // no seccomp here: nothing to emulate
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith("aio-demo: error: io_uring_setup") &&
                          Catch::Contains(std::string("(") + err + ")"));
  }
  char self[4096] = {};
  REQUIRE(::readlink("/proc/self/exe", self, sizeof self - 1) > 0);
  const auto tests = test::run_process({AIO_NO_IO_URING_PATH, "EPERM", self, "[lifecycle]"});
  CHECK(tests.exit_code == 77);
  CHECK_THAT(tests.err, Catch::Contains("SKIPPED: io_uring is not available"));
}

#ifdef AIO_DEMO_NET
// -- echo-server / echo-client: the server runs as a child process in the
// background while the client runs, as a user runs them in two terminals.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

namespace {

/// A child process whose stdout lines can be read while it runs; killed if
/// it is still running when the test ends. Every wait is bounded.
class Background {
 public:
  explicit Background(std::vector<std::string> argv) {
    argv.insert(argv.begin(), AIO_DEMO_PATH);
    pid_ = test::spawn_captured(argv, fds_[0], fds_[1]);
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : fds_)
      if (fd >= 0) close(fd);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) { REQUIRE(kill(pid_, sig) == 0); }

  /// The next line of stdout, or "" if none came within `timeout` (or at EOF).
  std::string read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto nl = result_.out.find('\n', consumed_);
      if (nl != std::string::npos) {
        std::string line = result_.out.substr(consumed_, nl - consumed_);
        consumed_ = nl + 1;
        return line;
      }
      if (!pump(deadline)) return "";
    }
  }

  /// Waits (bounded) for the exit; SIGKILL when it takes longer. The result
  /// holds all the output, also the lines read_line returned.
  test::ProcessResult wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pump(deadline)) {
    }
    if (fds_[0] >= 0 || fds_[1] >= 0) kill(pid_, SIGKILL);  // timed out
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result_;
  }

 private:
  // Reads what is there until the deadline; false at the deadline or once both pipes are closed.
  bool pump(std::chrono::steady_clock::time_point deadline) {
    if (fds_[0] < 0 && fds_[1] < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
    if (poll(p, 2, static_cast<int>(left.count())) <= 0) return false;
    std::string* sinks[2] = {&result_.out, &result_.err};
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds_[i]);
        fds_[i] = -1;
      } else {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int fds_[2] = {-1, -1};
  std::size_t consumed_ = 0;
  test::ProcessResult result_;
};

using namespace std::chrono_literals;

/// A loopback TCP socket bound to a free port; listening or not. While it
/// is open nobody else gets the port: not listening, a connect to it is
/// refused; listening, a second server cannot bind it.
struct HeldPort {
  int fd = -1;
  int port = 0;
  explicit HeldPort(bool listening) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    if (listening) REQUIRE(listen(fd, 8) == 0);
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~HeldPort() { close(fd); }
};

/// Sockets the process `pid` holds (its /proc/PID/fd entries naming one).
int socket_fds(pid_t pid) {
  int n = 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code lec;
    if (std::filesystem::read_symlink(e.path(), lec).string().rfind("socket:", 0) == 0) ++n;
  }
  return n;
}

/// Whether the server `pid` accepted a connection (holds a second socket
/// next to its listener) within `timeout`. Nothing it prints tells (the
/// handler is silent until the client writes), so its descriptor table is
/// looked at, every 2 ms, bounded.
bool accepted_within(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (socket_fds(pid) < 2) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    usleep(2000);
  }
  return true;
}

/// A blocking loopback TCP connection to `port`: the descriptor, or -errno.
int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/// What `fd` receives until EOF, a reset (then "<reset>" is appended) or
/// `timeout` (then "<timeout>").
std::string receive_all(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return got + "<timeout>";
    char buf[256];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return got;
    if (n < 0) return got + (errno == ECONNRESET ? "<reset>" : "<error>");
    got.append(buf, static_cast<std::size_t>(n));
  }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// The port in "Serving on ('127.0.0.1', PORT)".
int serving_port(const std::string& line) {
  std::smatch m;
  if (!std::regex_match(line, m, std::regex(R"(Serving on \('127\.0\.0\.1', (\d+)\))"))) return -1;
  return std::stoi(m[1]);
}

}  // namespace

TEST_CASE("aio-demo echo-client and echo-server print asyncio's example lines over TCP", "[demo][net]") {
  Background server({"echo-server", "--port", "0", "--count", "2"});
  const std::string first = server.read_line(10s);
  const int port = serving_port(first);
  REQUIRE(port > 0);
  for (const std::string message : {"Hello World!", "it's \"quoted\"\ttoo"}) {
    const auto client = demo({"echo-client", "--port", std::to_string(port), "--message", message});
    INFO(client.err);
    REQUIRE(client.exit_code == 0);
    const std::string shown = message == "Hello World!" ? "'Hello World!'" : R"('it\'s "quoted"\ttoo')";
    CHECK(client.lines() == Lines{"Send: " + shown, "Received: " + shown, "Close the connection"});
    CHECK(client.err.empty());
  }
  // --count 2: the server closes after the second connection and exits.
  const auto r = server.wait(10s);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] == first);
  CHECK_THAT(lines[1], Catch::Matches(R"(Received 'Hello World!' from \('127\.0\.0\.1', \d+\))"));
  CHECK(lines[2] == "Send: 'Hello World!'");
  CHECK(lines[3] == "Close the connection");
  CHECK_THAT(lines[4], Catch::StartsWith(R"(Received 'it\'s "quoted"\ttoo' from ('127.0.0.1', )"));
  CHECK(lines[5] == R"(Send: 'it\'s "quoted"\ttoo')");
  CHECK(lines[6] == "Close the connection");
  CHECK(r.err.empty());
}

TEST_CASE("aio-demo echo-server and echo-client --unix talk over a Unix socket, removed at close", "[demo][net]") {
  char dir_template[] = "/tmp/aio-demo-test-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/echo.sock";
  {
    Background server({"echo-server", "--unix", path, "--count", "1"});
    REQUIRE(server.read_line(10s) == "Serving on " + path);
    const auto client = demo({"echo-client", "--unix", path, "--message", "over unix"});
    INFO(client.err);
    REQUIRE(client.exit_code == 0);
    CHECK(client.lines() == Lines{"Send: 'over unix'", "Received: 'over unix'", "Close the connection"});
    const auto r = server.wait(10s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const Lines lines = r.lines();
    REQUIRE(lines.size() == 4);
    CHECK_THAT(lines[1], Catch::StartsWith("Received 'over unix' from "));
    CHECK(lines[2] == "Send: 'over unix'");
    CHECK(lines[3] == "Close the connection");
    CHECK_FALSE(std::filesystem::exists(path));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("aio-demo echo-client: a refused connection is one line on stderr and exit status 1", "[demo][net]") {
  const HeldPort closed(false);  // bound, not listening: the connect is refused
  const auto r = demo({"echo-client", "--port", std::to_string(closed.port)});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "aio-demo echo-client: cannot connect to 127.0.0.1:" + std::to_string(closed.port) +
                     ": Connection refused\n");
  const auto none = demo({"echo-client", "--unix", "/nonexistent/aio-demo.sock"});
  CHECK(none.exit_code == 1);
  CHECK(none.err == "aio-demo echo-client: cannot connect to /nonexistent/aio-demo.sock: No such file or directory\n");
}

TEST_CASE("aio-demo echo-server: a port in use is one line on stderr and exit status 1", "[demo][net]") {
  const HeldPort taken(true);
  const auto r = demo({"echo-server", "--port", std::to_string(taken.port)});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "aio-demo echo-server: cannot listen on 127.0.0.1:" + std::to_string(taken.port) +
                     ": Address already in use\n");
}

TEST_CASE("aio-demo echo-server without --count serves one connection after another", "[demo][net]") {
  Background server({"echo-server", "--port", "0"});
  const int port = serving_port(server.read_line(10s));
  REQUIRE(port > 0);
  for (int i = 0; i < 3; ++i) {
    const auto client = demo({"echo-client", "--port", std::to_string(port), "--message", std::to_string(i)});
    REQUIRE(client.exit_code == 0);
    CHECK(client.lines()[1] == "Received: '" + std::to_string(i) + "'");
    // The server printed its three lines for this connection before closing it.
    CHECK_THAT(server.read_line(5s), Catch::StartsWith("Received '" + std::to_string(i) + "' from ('127.0.0.1', "));
    CHECK(server.read_line(5s) == "Send: '" + std::to_string(i) + "'");
    CHECK(server.read_line(5s) == "Close the connection");
  }
  for (const auto& [name, options] : std::vector<std::pair<std::string, Lines>>{
           {"echo-server", {"--host", "--port", "--unix", "--count", "--grace", "SIGTERM"}},
           {"echo-client", {"--host", "--port", "--unix", "--message"}}}) {
    const auto help = demo({name, "--help"});
    CHECK(help.exit_code == 0);
    for (const auto& option : options) CHECK_THAT(help.out, Catch::Contains(option));
  }
}

// -- echo-server's graceful shutdown: a real child, real kill(2).

TEST_CASE("aio-demo echo-server, idle, exits 0 promptly on SIGTERM and on SIGINT", "[demo][net][signals]") {
  for (const int sig : {SIGTERM, SIGINT}) {
    const std::string name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    INFO(name);
    Background server({"echo-server", "--port", "0", "--grace", "60"});
    const std::string first = server.read_line(10s);
    REQUIRE(serving_port(first) > 0);
    const auto sent = std::chrono::steady_clock::now();
    server.signal(sig);
    const auto r = server.wait(20s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(seconds_since(sent) < 20);  // nobody to wait for: not the 60 s grace
    CHECK(r.lines() == Lines{first, "Shutting down on " + name + ": waiting up to 60 s for 0 connections"});
    CHECK(r.err.empty());
  }
}

TEST_CASE("aio-demo echo-server after SIGTERM: a connected client still gets its echo, new ones are refused",
          "[demo][net][signals]") {
  Background server({"echo-server", "--port", "0", "--grace", "60"});
  const std::string first = server.read_line(10s);
  const int port = serving_port(first);
  REQUIRE(port > 0);
  const int client = connect_to(port);
  REQUIRE(client >= 0);
  REQUIRE(accepted_within(server.pid(), 10s));
  const auto sent = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  CHECK(server.read_line(10s) == "Shutting down on SIGTERM: waiting up to 60 s for 1 connection");
  CHECK(connect_to(port) == -ECONNREFUSED);  // the listener is shut before that line is printed
  const std::string message = "still served";
  REQUIRE(send(client, message.data(), message.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(message.size()));
  CHECK(receive_all(client, 10s) == message);  // the echo, then the server's close
  close(client);
  const auto r = server.wait(20s);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(seconds_since(sent) < 20);  // the connection ended: not the 60 s grace
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 5);
  CHECK_THAT(lines[2], Catch::StartsWith("Received 'still served' from ('127.0.0.1', "));
  CHECK(lines[3] == "Send: 'still served'");
  CHECK(lines[4] == "Close the connection");
  CHECK(r.err.empty());
}

TEST_CASE("aio-demo echo-server after SIGTERM closes a connection still open after --grace, then exits 0",
          "[demo][net][signals]") {
  Background server({"echo-server", "--port", "0", "--grace", "0.5"});
  const int port = serving_port(server.read_line(10s));
  REQUIRE(port > 0);
  const int client = connect_to(port);  // connects and never writes
  REQUIRE(client >= 0);
  REQUIRE(accepted_within(server.pid(), 10s));
  const auto sent = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  CHECK(server.read_line(10s) == "Shutting down on SIGTERM: waiting up to 0.5 s for 1 connection");
  const auto r = server.wait(20s);
  const double took = seconds_since(sent);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(took >= 0.5);  // the grace period was given
  CHECK(took < 20);
  const Lines lines = r.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[2] == "Grace period over: closing 1 connection");
  CHECK(r.err.empty());
  const std::string rest = receive_all(client, 10s);  // closed by the server: EOF or a reset, nothing echoed
  CHECK((rest.empty() || rest == "<reset>"));
  close(client);
}

TEST_CASE("aio-demo echo-server: a second signal during the grace period ends it at once, as the signal does",
          "[demo][net][signals]") {
  Background server({"echo-server", "--port", "0", "--grace", "60"});
  const int port = serving_port(server.read_line(10s));
  REQUIRE(port > 0);
  const int client = connect_to(port);
  REQUIRE(client >= 0);
  REQUIRE(accepted_within(server.pid(), 10s));
  server.signal(SIGTERM);
  REQUIRE(server.read_line(10s) == "Shutting down on SIGTERM: waiting up to 60 s for 1 connection");
  const auto sent = std::chrono::steady_clock::now();
  server.signal(SIGINT);
  const auto r = server.wait(20s);
  CHECK(r.exit_code == 128 + SIGINT);  // killed by SIGINT: the default action, restored at the first signal
  CHECK(seconds_since(sent) < 20);
  close(client);
}

TEST_CASE("aio-demo: Ctrl-C in a scenario without a handler of its own ends it as SIGINT does, not by abort",
          "[demo][net][signals]") {
  const HeldPort silent(true);  // listening, never accepting: the client waits for its echo forever
  Background client({"echo-client", "--port", std::to_string(silent.port)});
  REQUIRE(client.read_line(10s) == "Send: 'Hello World!'");  // flushed at once; it now awaits the echo
  client.signal(SIGINT);  // aio::run cancels main and throws KeyboardInterrupt; main() re-raises SIGINT
  const auto r = client.wait(20s);
  CHECK(r.exit_code == 128 + SIGINT);  // an uncaught exception would abort: 128 + SIGABRT
  CHECK(r.err.empty());
}
#endif
