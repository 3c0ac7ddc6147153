#pragma once
// SIGINT at its default disposition for a test's scope, and a disposition
// reader: the Ctrl-C rule of aio::run / Runner::run applies only then.

#include <signal.h>

namespace test {

/// The handler `sig` has now (SIG_DFL, SIG_IGN or a function).
inline void (*disposition(int sig))(int) {
  struct sigaction sa {};
  ::sigaction(sig, nullptr, &sa);
  return sa.sa_handler;
}

/// Catch2 installs its own SIGINT handler while a test runs: this sets
/// SIG_DFL for the scope and puts Catch2's back after it.
class DefaultSigint {
 public:
  DefaultSigint() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGINT, &dfl, &saved_);
  }
  ~DefaultSigint() { ::sigaction(SIGINT, &saved_, nullptr); }
  DefaultSigint(const DefaultSigint&) = delete;
  DefaultSigint& operator=(const DefaultSigint&) = delete;

 private:
  struct sigaction saved_ {};
};

}  // namespace test
