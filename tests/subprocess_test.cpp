// create_subprocess_exec / create_subprocess_shell -> aio::Process with real
// children: pipes, DEVNULL, STDOUT, cwd, env, communicate without deadlock,
// signals and return codes, spawn errors, cancellation of wait(), the loop
// closing with children running, and a 1,000-child stress with fd and
// zombie counts.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "aio/aio.hpp"
#include "net_util.hpp"

using namespace std::chrono_literals;

namespace {

/// Whether this process has a child that ended and was not reaped.
bool has_zombie_child() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

/// Whether `pid` is an unreaped child of this process (running or zombie).
bool is_our_child(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

int spawn_errno(std::string program, std::vector<std::string> args = {}) {
  auto main = [&]() -> aio::Task<> {
    aio::Process p = co_await aio::create_subprocess_exec(program, args);
    co_await p.wait();
  };
  try {
    aio::run(main());
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  return 0;
}

const aio::ProcessOptions kOutErr{.stdout_mode = aio::PIPE, .stderr_mode = aio::PIPE};

}  // namespace

TEST_CASE("communicate returns the child's stdout and wait its exit code", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    std::vector<std::string> arg1{"hello", "world"};
    aio::ProcessOptions arg2{.stdout_mode = aio::PIPE};
    aio::Process p = co_await aio::create_subprocess_exec("echo", arg1, arg2);
    CHECK(p.pid() > 0);
    CHECK_FALSE(p.returncode().has_value());
    aio::CommunicateResult r = co_await p.communicate();
    CHECK(r.out == "hello world\n");
    CHECK(r.err.empty());
    CHECK(p.returncode() == 0);
    {
      const auto got = co_await p.wait();  // again: the known code
      CHECK(got == 0);
    }
  };
  aio::run(main());
}

TEST_CASE("create_subprocess_shell runs /bin/sh -c with stdout and stderr apart", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    aio::Process p = co_await aio::create_subprocess_shell("echo out; echo err >&2; exit 3", kOutErr);
    aio::CommunicateResult r = co_await p.communicate();
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
    CHECK(p.returncode() == 3);
  };
  aio::run(main());
}

TEST_CASE("STDOUT sends stderr into stdout; DEVNULL discards; INHERIT leaves no pipe", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    aio::ProcessOptions arg3{.stdout_mode = aio::PIPE, .stderr_mode = aio::STDOUT};
    aio::Process a = co_await aio::create_subprocess_shell("echo one; echo two >&2", arg3);
    CHECK(a.stderr_fd() == -1);
    aio::CommunicateResult r = co_await a.communicate();
    CHECK(r.out == "one\ntwo\n");
    aio::ProcessOptions arg4{.stdin_mode = aio::DEVNULL, .stdout_mode = aio::DEVNULL, .stderr_mode = aio::PIPE};
    aio::Process b = co_await aio::create_subprocess_shell("echo hidden; read x; echo \"[$x]\" >&2", arg4);
    CHECK(b.stdout_fd() == -1);
    r = co_await b.communicate();
    CHECK(r.out.empty());
    CHECK(r.err == "[]\n");  // stdin at end of file at once
    aio::Process c = co_await aio::create_subprocess_exec("true");
    CHECK(c.stdin_fd() == -1);
    CHECK(c.stdout_fd() == -1);
    {
      const auto got = co_await c.wait();
      CHECK(got == 0);
    }
  };
  aio::run(main());
}

TEST_CASE("STDOUT is refused for stdin and stdout with ValueError", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    std::vector<std::string> arg5;
    aio::ProcessOptions arg6{.stdout_mode = aio::STDOUT};
    CHECK_THROWS_AS(co_await aio::create_subprocess_exec("true", arg5, arg6), aio::ValueError);
  };
  aio::run(main());
}

TEST_CASE("communicate moves megabytes both ways through cat without deadlock", "[subprocess]") {
  std::string input(8 << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 23);
  auto main = [&]() -> aio::Task<> {
    // Both pipes fill up (64 KiB each) long before the input is all written.
    aio::ProcessOptions arg7{.stdin_mode = aio::PIPE, .stdout_mode = aio::PIPE, .stderr_mode = aio::PIPE};
    aio::Process p = co_await aio::create_subprocess_shell("cat; head -c 100000 /dev/zero >&2", arg7);
    aio::CommunicateResult r = co_await aio::wait_for(p.communicate(input), 60s);
    CHECK(r.out.size() == input.size());
    CHECK(r.out == input);
    CHECK(r.err == std::string(100000, '\0'));
    CHECK(p.returncode() == 0);
  };
  aio::run(main());
}

TEST_CASE("a child that does not read its stdin: communicate's EPIPE is not an error", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    std::vector<std::string> arg8;
    aio::ProcessOptions arg9{.stdin_mode = aio::PIPE};
    aio::Process p = co_await aio::create_subprocess_exec("true", arg8, arg9);
    aio::CommunicateResult r = co_await p.communicate(std::string(1 << 20, 'x'));
    CHECK(r.out.empty());
    CHECK(p.returncode() == 0);
  };
  aio::run(main());
}

TEST_CASE("cwd and env are the child's", "[subprocess]") {
  char tmpl[] = "/tmp/aio-proc-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = std::filesystem::canonical(tmpl).string();
  auto main = [&]() -> aio::Task<> {
    std::vector<std::string> arg10;
    aio::ProcessOptions arg11{.stdout_mode = aio::PIPE, .cwd = dir};
    aio::Process p = co_await aio::create_subprocess_exec("/bin/pwd", arg10, arg11);
    {
      const aio::CommunicateResult got = co_await p.communicate();
      CHECK(got.out == dir + "\n");
    }
    std::vector<std::string> arg12;
    aio::ProcessOptions arg13{.stdout_mode = aio::PIPE, .env = std::map<std::string, std::string>{{"AIO_X", "1 2"}}};
    aio::Process e = co_await aio::create_subprocess_exec("/usr/bin/env", arg12, arg13);
    {
      const aio::CommunicateResult got = co_await e.communicate();
      CHECK(got.out == "AIO_X=1 2\n");
    }
  };
  aio::run(main());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a missing or non-executable program throws from create_subprocess_exec, leaving no zombie and no fd",
          "[subprocess]") {
  char tmpl[] = "/tmp/aio-proc-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string noexec = std::string(tmpl) + "/script";
  {
    FILE* f = std::fopen(noexec.c_str(), "w");
    std::fputs("#!/bin/sh\necho hi\n", f);
    std::fclose(f);
    ::chmod(noexec.c_str(), 0644);
  }
  test::warm_ring_cache();
  const std::size_t fds = test::open_fds();
  CHECK(spawn_errno("/nonexistent/program") == ENOENT);
  CHECK(spawn_errno("aio-no-such-program-on-path") == ENOENT);
  CHECK(spawn_errno(noexec) == EACCES);
  CHECK(spawn_errno(tmpl) == EACCES);  // a directory
  // The pipes of a failed spawn are closed too.
  auto with_pipes = [&]() -> aio::Task<> {
    std::vector<std::string> arg14;
    aio::ProcessOptions arg15{.stdin_mode = aio::PIPE, .stdout_mode = aio::PIPE, .stderr_mode = aio::PIPE};
    aio::Process p = co_await aio::create_subprocess_exec("/nonexistent/program", arg14, arg15);
  };
  CHECK_THROWS_AS(aio::run(with_pipes()), std::system_error);
  CHECK(test::open_fds() == fds);
  CHECK_FALSE(has_zombie_child());
  std::filesystem::remove_all(tmpl);
}

TEST_CASE("kill and terminate: returncode is minus the signal; a signal after the reap is a no-op", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    std::vector<std::string> arg16{"30"};
    aio::Process a = co_await aio::create_subprocess_exec("sleep", arg16);
    a.kill();
    {
      const auto got = co_await a.wait();
      CHECK(got == -SIGKILL);
    }
    std::vector<std::string> arg17{"30"};
    aio::Process b = co_await aio::create_subprocess_exec("sleep", arg17);
    b.terminate();
    {
      const auto got = co_await b.wait();
      CHECK(got == -SIGTERM);
    }
    std::vector<std::string> arg18{"30"};
    aio::Process c = co_await aio::create_subprocess_exec("sleep", arg18);
    c.send_signal(SIGUSR1);
    {
      const auto got = co_await c.wait();
      CHECK(got == -SIGUSR1);
    }
    c.kill();  // reaped: nothing to signal
    c.send_signal(SIGTERM);
    CHECK(c.returncode() == -SIGUSR1);
  };
  aio::run(main());
}

TEST_CASE("a cancelled wait leaves the child running; a later wait gets its status", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    std::vector<std::string> arg19{"30"};
    aio::Process p = co_await aio::create_subprocess_exec("sleep", arg19);
    CHECK_THROWS_AS(co_await aio::wait_for(p.wait(), 50ms), aio::TimeoutError);
    CHECK_FALSE(p.returncode().has_value());
    CHECK(::kill(p.pid(), 0) == 0);
    siginfo_t info{};
    REQUIRE(::waitid(P_PID, static_cast<id_t>(p.pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0);
    CHECK(info.si_pid == 0);  // not ended
    p.kill();
    {
      const auto got = co_await p.wait();
      CHECK(got == -SIGKILL);
    }
  };
  aio::run(main());
}

TEST_CASE("several waits of one child all get its status", "[subprocess]") {
  auto main = []() -> aio::Task<> {
    aio::Process p = co_await aio::create_subprocess_shell("sleep 0.05; exit 9");
    auto [a, b, c] = co_await aio::gather(p.wait(), p.wait(), p.wait());
    CHECK(a == 9);
    CHECK(b == 9);
    CHECK(c == 9);
  };
  aio::run(main());
}

TEST_CASE("wait by a poll of the pidfd where IORING_OP_WAITID is not used", "[subprocess]") {
  aio::detail::set_waitid_enabled(false);
  auto main = []() -> aio::Task<> {
    aio::Process p = co_await aio::create_subprocess_shell("exit 5", kOutErr);
    const aio::CommunicateResult r = co_await p.communicate();
    CHECK(r.out.empty());
    CHECK(p.returncode() == 5);
    std::vector<std::string> arg20{"30"};
    aio::Process q = co_await aio::create_subprocess_exec("sleep", arg20);
    CHECK_THROWS_AS(co_await aio::wait_for(q.wait(), 30ms), aio::TimeoutError);
    q.kill();
    {
      const auto got = co_await q.wait();
      CHECK(got == -SIGKILL);
    }
  };
  aio::run(main());
  aio::detail::set_waitid_enabled(true);
}

TEST_CASE("closing the loop with children running does not hang and leaves no zombie", "[subprocess]") {
  std::optional<aio::Process> kept;
  pid_t in_frame = -1;
  const auto t0 = std::chrono::steady_clock::now();
  {
    aio::EventLoop loop;
    auto waiter = [&]() -> aio::Task<> {
      std::vector<std::string> arg21{"30"};
      aio::Process p = co_await aio::create_subprocess_exec("sleep", arg21, kOutErr);
      in_frame = p.pid();
      co_await p.communicate();  // pending when the loop closes
    };
    auto main = [&]() -> aio::Task<> {
      std::vector<std::string> arg22{"30"};
      kept.emplace(co_await aio::create_subprocess_exec("sleep", arg22));
      aio::get_running_loop().create_task(waiter());
      co_await aio::sleep(50ms);
    };
    loop.run_until_complete(main());
    REQUIRE(in_frame > 0);
    CHECK(is_our_child(kept->pid()));
    loop.close();
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK_FALSE(is_our_child(in_frame));
  CHECK_FALSE(is_our_child(kept->pid()));
  CHECK(kept->returncode() == -SIGKILL);
  CHECK_FALSE(has_zombie_child());
}

TEST_CASE("1000 short children with pipes, 16 at a time: no fd leaked, no zombie", "[subprocess][stress]") {
  test::warm_ring_cache();
  const std::size_t fds = test::open_fds();
  int ok = 0;
  auto one = [&]() -> aio::Task<> {
    std::vector<std::string> arg23;
    aio::ProcessOptions arg24{.stdin_mode = aio::PIPE, .stdout_mode = aio::PIPE, .stderr_mode = aio::PIPE};
    aio::Process p = co_await aio::create_subprocess_exec("/bin/true", arg23, arg24);
    co_await p.communicate();
    if (p.returncode() == 0) ++ok;
  };
  auto main = [&]() -> aio::Task<> {
    for (int round = 0; round < 1000 / 16 + 1; ++round) {
      const int n = std::min(16, 1000 - round * 16);
      if (n <= 0) break;
      std::vector<aio::Task<void>> batch;
      for (int i = 0; i < n; ++i) batch.push_back(one());
      co_await aio::gather(std::move(batch));
    }
  };
  aio::run(main());
  CHECK(ok == 1000);
  CHECK(test::open_fds() == fds);
  CHECK_FALSE(has_zombie_child());
}

TEST_CASE("a child's pipes as streams: stdout line by line, stdin written then closed, stderr apart",
          "[subprocess][net]") {
  auto main = []() -> aio::Task<> {
    aio::ProcessOptions pipes{.stdin_mode = aio::PIPE, .stdout_mode = aio::PIPE, .stderr_mode = aio::PIPE};
    aio::Process p = co_await aio::create_subprocess_shell(
        "echo ready; while read line; do echo \"got $line\"; done; echo bye >&2", pipes);
    aio::StreamWriter* in = p.stdin_writer();
    aio::StreamReader* out = p.stdout_reader();
    aio::StreamReader* err = p.stderr_reader();
    REQUIRE(in != nullptr);
    REQUIRE(out != nullptr);
    REQUIRE(err != nullptr);
    CHECK(p.stdin_writer() == in);  // the same stream every time
    CHECK(p.stdout_fd() == -1);     // the stream owns the descriptor now
    const std::string first = co_await out->readline();
    CHECK(first == "ready\n");
    for (int i = 0; i < 3; ++i) {
      in->write("line " + std::to_string(i) + "\n");
      co_await in->drain();
      const std::string echoed = co_await out->readline();
      CHECK(echoed == "got line " + std::to_string(i) + "\n");
    }
    in->close();  // the child reads end of file and leaves its loop
    co_await in->wait_closed();
    const std::string rest = co_await out->read(-1);
    CHECK(rest.empty());
    CHECK(out->at_eof());
    const std::string bye = co_await err->read(-1);
    CHECK(bye == "bye\n");
    const int status = co_await p.wait();
    CHECK(status == 0);
  };
  aio::run(main());
}

TEST_CASE("communicate moves 4 MiB through the child both ways without deadlock, in order",
          "[subprocess][net]") {
  auto main = []() -> aio::Task<> {
    std::string input(4 << 20, '\0');
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    aio::ProcessOptions pipes{.stdin_mode = aio::PIPE, .stdout_mode = aio::PIPE, .stderr_mode = aio::PIPE};
    // cat echoes while it reads: a writer that first wrote everything would
    // fill both pipes and deadlock.
    aio::Process p = co_await aio::create_subprocess_exec("cat", {}, pipes);
    // A reader made before communicate: what it buffers is still in the result.
    REQUIRE(p.stdout_reader() != nullptr);
    aio::CommunicateResult r = co_await p.communicate(input);
    CHECK(r.out.size() == input.size());
    CHECK(r.out == input);
    CHECK(r.err.empty());
    CHECK(p.returncode() == 0);
    // A child that never reads its stdin: the write ends with EPIPE, not an error.
    aio::Process q = co_await aio::create_subprocess_shell("exec 0<&-; echo done", pipes);
    aio::CommunicateResult r2 = co_await q.communicate(input);
    CHECK(r2.out == "done\n");
  };
  aio::run(main());
}
