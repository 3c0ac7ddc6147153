#pragma once
// The whole public API of aio: asyncio for C++20 on io_uring.

#include "aio/callback_handle.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/fd.hpp"
#include "aio/gather.hpp"
#include "aio/outcome.hpp"
#include "aio/run.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/task_handle.hpp"
#include "aio/to_thread.hpp"
