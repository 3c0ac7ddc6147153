#pragma once
// What echo-server and echo-client share: Python's repr() of the message
// (the asyncio examples print `{message!r}`), and the one-line error a user
// gets for a refused connection or a port in use.

#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

#include <sys/socket.h>

#include "aio/aio.hpp"

namespace demo::echo {

/// Python's repr() of a str: single quotes unless the text holds ' and no ",
/// backslash escapes for the quote, \\, \n, \r, \t and other control bytes.
inline std::string repr(std::string_view s) {
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == static_cast<unsigned char>(q)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += q;
  return out;
}

/// An address as the Python example prints it: a socket name is a tuple for
/// IP, `('127.0.0.1', 8888)` or `('::1', 8888, 0, 0)` (flow info and scope
/// shown as 0), and the path for a Unix socket. `quote_path`: repr() of the
/// path (the peername line), else str() (the "Serving on" line).
inline std::string py_addr(const aio::SockAddr& a, bool quote_path) {
  const std::string text = a.to_string();
  if (a.family() != AF_INET && a.family() != AF_INET6) return quote_path ? repr(text) : text;
  std::string host = text.substr(0, text.rfind(':'));
  if (a.family() == AF_INET6 && host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port = std::to_string(a.port());
  return "('" + host + "', " + port + (a.family() == AF_INET6 ? ", 0, 0)" : ")");
}

/// Where the example listens or connects, as the user gave it.
inline std::string where(const std::string& host, int port, const std::string& unix_path) {
  return unix_path.empty() ? host + ":" + std::to_string(port) : unix_path;
}

/// One line on stderr and the exit status 1: "aio-demo echo-client: cannot
/// connect to 127.0.0.1:8888: Connection refused".
inline int fail(const char* scenario, const std::string& what, const std::system_error& e) {
  std::fflush(stdout);
  std::fprintf(stderr, "aio-demo %s: %s: %s\n", scenario, what.c_str(), e.code().message().c_str());
  return 1;
}

/// print() of the examples: a line, flushed at once (a pipe would otherwise
/// keep it until exit, and a server is usually stopped by a signal).
inline void say(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace demo::echo
