// Call graphs (aio/call_graph.hpp), print_stack, EventLoop::dump_tasks.
//
// A task's call stack is read from its frames: TaskBase keeps the innermost
// one (where it is parked, or the frame running during its step), and each
// Task promise links to the frame awaiting it, up to the root; each promise
// holds the site of the co_await it is suspended in (await_transform).
// "Awaited by" is read from the task's done-waiter list: each node's target
// names the task waiting through it.

#include "aio/call_graph.hpp"

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string_view>
#include <vector>

#include "aio/detail/loop_core.hpp"
#include "aio/event_loop.hpp"
#include "aio/task.hpp"

namespace aio {
namespace detail {

// g++'s source_location gives the whole signature ("aio::Task<int> ns::f(int)
// [with T = int]"): keep the qualified name. clang's __builtin_FUNCTION is the
// bare name already, left as it is.
std::string_view short_function_name(std::string_view s) noexcept {
  if (const auto with = s.find(" [with "); with != std::string_view::npos) s = s.substr(0, with);
  const auto close = s.rfind(')');
  if (close == std::string_view::npos) return s;
  int depth = 0;
  std::size_t open = std::string_view::npos;
  for (std::size_t i = close + 1; i-- > 0;) {
    if (s[i] == ')') ++depth;
    if (s[i] == '(' && --depth == 0) {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos || open == 0) return s;
  s = s.substr(0, open);
  // The return type ends at the last space outside <...> and (...).
  depth = 0;
  for (std::size_t i = s.size(); i-- > 0;) {
    const char c = s[i];
    if (c == '>' || c == ')') ++depth;
    if (c == '<' || c == '(') --depth;
    if (c == ' ' && depth == 0) return s.substr(i + 1);
  }
  return s;
}

namespace {

// Whether the call site `where` (bare function name) is in the function of `site`.
bool same_function(const CallSite& where, const AwaitSite& site) {
  if (where.function == nullptr) return false;
  const std::string_view name = short_function_name(site.function());
  const std::string_view bare = where.function;
  if (name == bare) return true;
  return name.size() > bare.size() + 2 && name.ends_with(bare) &&
         name.substr(name.size() - bare.size() - 2, 2) == "::";
}

void entry(std::string& out, const std::string& indent, std::string_view file, unsigned line, std::string_view tag,
           std::string_view function) {
  out += indent;
  out += "  |   File '";
  out += file;
  out += "', line ";
  out += std::to_string(line);
  out += ", in ";
  out += tag;
  out += function;
  out += "()\n";
}

void header(std::string& out, const std::string& indent, const TaskBase& t) {
  char id[32];
  std::snprintf(id, sizeof id, "%#lx", static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(&t)));
  out += indent;
  out += "* Task(name='";
  out += t.name();
  out += "', id=";
  out += id;
  out += ")\n";
}

// The tasks waiting for `t`, oldest first, each once.
std::vector<const TaskBase*> awaited_by(const TaskBase& t) {
  std::vector<const TaskBase*> out;
  t.for_each_done_waiter([&](const DoneWaiter* w) {
    const TaskBase* by = w->target != nullptr ? w->target->waiting : nullptr;
    if (by == nullptr) return;
    for (const TaskBase* seen : out) {
      if (seen == by) return;
    }
    out.push_back(by);
  });
  return {out.rbegin(), out.rend()};  // the list is newest first
}

void render(std::string& out, const TaskBase& t, const CallSite& where, int level,
            std::vector<const TaskBase*>& path) {
  const std::string indent(static_cast<std::size_t>(level) * 4, ' ');
  header(out, indent, t);
  void* frame = t.innermost_frame();
  const bool running = tls_running_loop == &t.loop() && t.loop().current() == &t;
  if (frame != nullptr || running) {
    out += indent;
    out += "  + Call stack:\n";
    if (running && where.file != nullptr) {
      // The caller's own line: the running frame's site is its last co_await.
      const bool in_frame = frame != nullptr && (!promise_of(frame).site.known() || same_function(where, promise_of(frame).site));
      entry(out, indent, where.file, where.line, in_frame ? "async " : "", where.function != nullptr ? where.function : "");
      if (in_frame) frame = promise_of(frame).parent();
    }
    for (; frame != nullptr; frame = promise_of(frame).parent()) {
      const AwaitSite& s = promise_of(frame).site;
      if (s.known()) {
        entry(out, indent, s.file(), s.line(), "async ", short_function_name(s.function()));
      } else {
        // A frame that never awaited: its task has not started yet.
        out += indent;
        out += "  |   (not started)\n";
      }
    }
  }
  const std::vector<const TaskBase*> by = awaited_by(t);
  if (by.empty()) return;
  out += indent;
  out += "  + Awaited by:\n";
  path.push_back(&t);
  for (const TaskBase* b : by) {
    bool cycle = false;
    for (const TaskBase* p : path) cycle = cycle || p == b;
    if (cycle) {
      // Tasks awaiting each other (a deadlock): shown once, not followed.
      header(out, std::string(static_cast<std::size_t>(level + 1) * 4, ' '), *b);
      out.back() = ' ';
      out += "(a cycle: already above)\n";
      continue;
    }
    render(out, *b, where, level + 1, path);
  }
  path.pop_back();
}

const char* state_of(const TaskBase& t) {
  if (t.done()) return "done";
  if (tls_running_loop == &t.loop() && t.loop().current() == &t) return "running";
  if (!t.started()) return "not started";
  return t.parked() ? "waiting" : "ready";
}

std::string format_call_graph(const TaskBase& t, const CallSite& where) {
  std::string out;
  std::vector<const TaskBase*> path;
  render(out, t, where, 0, path);
  if (!out.empty()) out.pop_back();  // asyncio's '\n'.join: no final newline
  return out;
}

}  // namespace

void print_task_stack(const TaskBase& t, std::ostream& os, CallSite where) {
  os << format_call_graph(t, where) << '\n';
}

namespace {
void dump_tasks(const LoopCore& loop, std::ostream& os) {
  std::vector<const TaskBase*> tasks;
  loop.for_each_task([&](TaskBase* t) { tasks.push_back(t); });
  std::string out = "aio: " + std::to_string(tasks.size()) + (tasks.size() == 1 ? " live task\n" : " live tasks\n");
  for (const TaskBase* t : tasks) {
    out += "\nTask '" + t->name() + "': " + state_of(*t);
    if (t->cancelling() > 0) out += ", cancelling " + std::to_string(t->cancelling());
    out += '\n';
    out += format_call_graph(*t, CallSite{});
    out += '\n';
  }
  os << out << std::flush;
}
}  // namespace

}  // namespace detail

std::string format_call_graph(const AnyTaskHandle& task, detail::CallSite where) {
  if (!task) return {};
  return detail::format_call_graph(*task.task_ptr(), where);
}

std::string format_call_graph(detail::CallSite where) {
  detail::running_loop();  // throws outside a loop
  return format_call_graph(current_task(), where);
}

void print_call_graph(detail::CallSite where) { print_call_graph(std::cout, where); }

void print_call_graph(std::ostream& os, detail::CallSite where) { os << format_call_graph(where) << '\n'; }

void print_call_graph(const AnyTaskHandle& task, detail::CallSite where) { print_call_graph(task, std::cout, where); }

void print_call_graph(const AnyTaskHandle& task, std::ostream& os, detail::CallSite where) {
  if (task) os << format_call_graph(task, where) << '\n';
}

void AnyTaskHandle::print_stack(std::ostream& os, detail::CallSite where) const {
  detail::print_task_stack(task(), os, where);
}

void EventLoop::dump_tasks(std::ostream& os) const { detail::dump_tasks(core_, os); }

}  // namespace aio
