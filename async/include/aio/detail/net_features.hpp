#pragma once
// Optional io_uring features the networking layer uses when the running
// kernel has them, and falls back from when it refuses them (Linux 6.1, the
// floor, has all of them; a kernel that answers EINVAL to one is remembered
// for the process).

namespace aio::detail {

enum NetFeature : unsigned {
  kMultishotAccept = 1U << 0,  ///< IORING_ACCEPT_MULTISHOT (5.19); else one accept SQE per connection
  kMultishotRecv = 1U << 1,    ///< IORING_RECV_MULTISHOT (6.0); else one recv SQE per read
  kBufferRing = 1U << 2,       ///< IORING_REGISTER_PBUF_RING (5.19); else a buffer per connection
};

/// Whether `f` is in use (not refused by the kernel, nor by the test hook).
bool net_feature(NetFeature f) noexcept;
/// The kernel refused `f` (EINVAL): later operations use the fallback.
void refuse_net_feature(NetFeature f) noexcept;

/// Rare completions the networking layer handles, counted for the process so
/// that a test can tell its path was taken.
enum class NetEvent : unsigned {
  recv_enobufs,            ///< a recv ended by an empty buffer ring (re-armed)
  recv_data_after_cancel,  ///< a recv's data CQE after its cancel was sent (kept)
  count_
};
/// Counts one `e` (relaxed; rare events only).
void note_net_event(NetEvent e) noexcept;

namespace testing {
/// For tests only: treat the features in `mask` as refused by the kernel,
/// from the next operation on (0 restores the probe's answer).
void simulate_refused_net_features(unsigned mask) noexcept;
/// How many `e` the process has seen so far.
unsigned long net_events(NetEvent e) noexcept;
}  // namespace testing

}  // namespace aio::detail
