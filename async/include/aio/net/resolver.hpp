#pragma once
// aio::getaddrinfo: loop.getaddrinfo.

#include <sys/socket.h>

#include <string>
#include <system_error>
#include <vector>

#include "aio/net/sock_addr.hpp"
#include "aio/task.hpp"

namespace aio {

/// The error category of getaddrinfo's EAI_* codes (message: gai_strerror).
const std::error_category& gai_category() noexcept;

/// Resolves `host` and `port` (loop.getaddrinfo): the addresses in the
/// resolver's order. A numeric host ("127.0.0.1", "::1") is converted at
/// once; a name is resolved by getaddrinfo(3) on a to_thread worker, the
/// loop running meanwhile. An empty host means every local address
/// (AI_PASSIVE: 0.0.0.0 and ::).
/// Throws: std::system_error in gai_category() with the resolver's message
/// (EAI_NONAME: "Name or service not known"), or the errno for EAI_SYSTEM.
/// Cancel safety: cancelling stops the wait; a running lookup finishes on
/// its thread and its result is dropped.
Task<std::vector<SockAddr>> getaddrinfo(std::string host, int port, int family = AF_UNSPEC,
                                        int type = SOCK_STREAM);

}  // namespace aio
