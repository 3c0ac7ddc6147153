#pragma once
// aio's networking: asyncio's streams, servers, sockets and datagrams.

#include "aio/net/connection.hpp"
#include "aio/net/datagram.hpp"
#include "aio/net/resolver.hpp"
#include "aio/net/server.hpp"
#include "aio/net/sock.hpp"
#include "aio/net/sock_addr.hpp"
#include "aio/net/stream_errors.hpp"
#include "aio/net/streams.hpp"
