#pragma once
// The ring setup choices shared by uring::RingOptions and aio::LoopOptions
// (one definition, no translation). Kept free of <liburing.h>: public.

#include <cstdint>

namespace aio::uring {

/// How the kernel runs completion work for the ring.
enum class TaskRun : std::uint8_t {
  automatic,    ///< the cheapest the kernel accepts: defer, else cooperative, else plain
  defer,        ///< IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (Linux 6.1+)
  cooperative,  ///< IORING_SETUP_COOP_TASKRUN (Linux 5.19+)
  plain,        ///< neither
};

/// Whether an optional io_uring setup flag is used.
enum class Feature : std::uint8_t {
  automatic,  ///< when the running kernel accepts it, silently without it otherwise
  required,   ///< always: a kernel that refuses it is a setup error (EINVAL)
  disabled,   ///< never
};

}  // namespace aio::uring
