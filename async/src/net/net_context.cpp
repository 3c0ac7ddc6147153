#include "net_context.hpp"

#include <liburing.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>

#include "aio/detail/loop_core.hpp"
#include "driver.hpp"

namespace aio::detail {
namespace {

std::atomic<unsigned> g_refused{0};
std::atomic<unsigned> g_simulated{0};
std::atomic<unsigned long> g_events[static_cast<unsigned>(NetEvent::count_)];

struct NetOp {
  int opcode;
  const char* name;
  const char* since;
};
constexpr NetOp kNetOps[] = {
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT", "5.5"},   {IORING_OP_CONNECT, "IORING_OP_CONNECT", "5.5"},
    {IORING_OP_RECV, "IORING_OP_RECV", "5.6"},       {IORING_OP_SEND, "IORING_OP_SEND", "5.6"},
    {IORING_OP_RECVMSG, "IORING_OP_RECVMSG", "5.3"}, {IORING_OP_SENDMSG, "IORING_OP_SENDMSG", "5.3"},
};

}  // namespace

bool net_feature(NetFeature f) noexcept {
  return ((g_refused.load(std::memory_order_relaxed) | g_simulated.load(std::memory_order_relaxed)) & f) == 0;
}

void refuse_net_feature(NetFeature f) noexcept { g_refused.fetch_or(f, std::memory_order_relaxed); }

void note_net_event(NetEvent e) noexcept { g_events[static_cast<unsigned>(e)].fetch_add(1, std::memory_order_relaxed); }

namespace testing {
void simulate_refused_net_features(unsigned mask) noexcept { g_simulated.store(mask, std::memory_order_relaxed); }
unsigned long net_events(NetEvent e) noexcept {
  return g_events[static_cast<unsigned>(e)].load(std::memory_order_relaxed);
}
}  // namespace testing

NetContext::NetContext(uring::Ring& ring) {
  for (const NetOp& op : kNetOps) {
    if (!ring.supports(op.opcode)) {
      throw std::system_error(EOPNOTSUPP, std::system_category(),
                              std::string("io_uring: the running kernel does not support ") + op.name +
                                  " (needs Linux " + op.since + " or later)");
    }
  }
  if (net_feature(kBufferRing)) {
    try {
      buffers_ = std::make_unique<uring::BufferRing>(ring, kGroup, kBuffers, kBufferSize);
    } catch (const std::system_error& e) {
      // EINVAL: no buffer rings in this kernel; anything else (ENOMEM) is
      // this loop's problem only: connections bring their own buffers.
      if (e.code().value() == EINVAL) refuse_net_feature(kBufferRing);
    }
  }
}

NetContext& net_context(LoopCore& loop) {
  Driver& d = loop.driver();
  if (!d.net) d.net = std::make_unique<NetContext>(d.ring);
  return *d.net;
}

}  // namespace aio::detail
