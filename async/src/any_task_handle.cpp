#include "aio/any_task_handle.hpp"

#include <cstdio>

#include "aio/callback_handle.hpp"
#include "aio/detail/loop_core.hpp"
#include "aio/errors.hpp"

namespace aio {
namespace {

// A done callback waiting for its task: a node in the task's waiter list.
// When the task ends it is replaced by a loop callback (call_soon) and freed.
struct DoneCallbackNode final : detail::DoneWaiter, detail::DoneTarget {
  AnyTaskHandle::DoneCallback fn;

  explicit DoneCallbackNode(AnyTaskHandle::DoneCallback f) : DoneWaiter(this), fn(std::move(f)) {
    DoneTarget::on_done = &on_done_fn;
  }
  static void on_done_fn(detail::DoneTarget* self, detail::DoneWaiter* /*node*/, detail::TaskBase* t) noexcept {
    auto* node = static_cast<DoneCallbackNode*>(self);
    schedule(t, std::move(node->fn));
    delete node;
  }
  static void schedule(detail::TaskBase* t, AnyTaskHandle::DoneCallback fn) noexcept {
    try {
      auto run = [h = AnyTaskHandle(t), fn = std::move(fn)]() { fn(h); };
      t->loop().schedule(new detail::Callback<decltype(run)>(t->loop(), std::move(run)));
    } catch (...) {
      std::fputs("aio: a done callback was lost (out of memory)\n", stderr);
    }
  }
};

}  // namespace

detail::TaskBase& AnyTaskHandle::task() const {
  if (task_ == nullptr) throw InvalidStateError("aio::AnyTaskHandle: empty handle");
  return *task_;
}

std::exception_ptr AnyTaskHandle::exception() const {
  detail::TaskBase& t = task();
  if (!t.done()) throw InvalidStateError("Exception is not set.");
  t.mark_retrieved();
  if (t.status() == detail::TaskStatus::cancelled) {
    if (t.error()) std::rethrow_exception(t.error());
    throw CancelledError(t.cancel_message());
  }
  return t.error();
}

std::uintptr_t AnyTaskHandle::add_done_callback(DoneCallback f) const {
  detail::TaskBase& t = task();
  if (t.done()) {
    auto run = [h = *this, f = std::move(f)]() { f(h); };
    t.loop().schedule(new detail::Callback<decltype(run)>(t.loop(), std::move(run)));
    return 0;
  }
  auto* node = new DoneCallbackNode(std::move(f));
  t.add_done_waiter(node);
  return reinterpret_cast<std::uintptr_t>(static_cast<detail::DoneWaiter*>(node));
}

std::size_t AnyTaskHandle::remove_done_callback(std::uintptr_t id) const {
  detail::TaskBase& t = task();
  auto* w = reinterpret_cast<detail::DoneWaiter*>(id);
  if (id == 0 || !t.remove_done_waiter(w, &DoneCallbackNode::on_done_fn)) return 0;
  delete static_cast<DoneCallbackNode*>(w);
  return 1;
}

AnyTaskHandle current_task() noexcept {
  detail::LoopCore* loop = detail::tls_running_loop;
  return AnyTaskHandle(loop != nullptr ? loop->current() : nullptr);
}

std::vector<AnyTaskHandle> all_tasks() {
  detail::LoopCore& loop = detail::running_loop();
  std::vector<AnyTaskHandle> out;
  loop.for_each_task([&](detail::TaskBase* t) { out.emplace_back(t); });
  return out;
}

}  // namespace aio
