#pragma once
// The calling process's id without a syscall per ask: the ring cache and the
// wake-up eventfd cache check it at every loop to tell a forked child, which
// must never use its parent's ring.

#include <sys/types.h>

namespace aio::uring {

/// getpid(), cached; refreshed in a child made by fork(2) (pthread_atfork).
/// A child made by a raw clone(2) without atfork handlers that goes on to
/// create loops sees its parent's pid (posix_spawn's children exec at once).
pid_t process_id() noexcept;

}  // namespace aio::uring
