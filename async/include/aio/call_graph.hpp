#pragma once
// aio::format_call_graph, aio::print_call_graph: where a task waits
// (asyncio.format_call_graph / print_call_graph, Python 3.14).

#include <iosfwd>
#include <string>

#include "aio/any_task_handle.hpp"
#include "aio/detail/call_site.hpp"

namespace aio {

/// The call graph of `task` as asyncio 3.14 renders it:
///
///     * Task(name='worker', id=0x55d0c8a4e2a0)
///       + Call stack:
///       |   File 'app.cpp', line 12, in async leaf()
///       |   File 'app.cpp', line 20, in async middle()
///       + Awaited by:
///           * Task(name='main', id=0x55d0c8a4e130)
///               + Call stack:
///               |   File 'app.cpp', line 31, in async main()
///
/// The call stack lists the task's suspended coroutines, innermost first,
/// each with the file and line of the co_await it is suspended in (a Task
/// co_awaited directly runs inline in the task: it is one more entry). For
/// the task calling this, the innermost entry is the call itself (`where`,
/// filled in by the compiler); an outer frame that is still running shows
/// the line of its last co_await. "Awaited by" lists, recursively, the tasks
/// waiting for this one through `co_await handle`, gather, wait, shield or a
/// TaskGroup (whose parent awaits every child); done callbacks and
/// as_completed are not listed. A finished task has no call stack. Empty
/// handle: "". Function names are the compiler's, without return type and
/// parameters ("ns::Worker::run").
/// Throws: std::bad_alloc. Call it on the task's loop thread.
std::string format_call_graph(const AnyTaskHandle& task, detail::CallSite where = detail::CallSite::current());
/// The current task's call graph; "" outside a task.
/// Throws: RuntimeError when no loop is running.
std::string format_call_graph(detail::CallSite where = detail::CallSite::current());

/// Writes format_call_graph() of the current task and a newline to stdout,
/// or to `os` (asyncio.print_call_graph). Outside a task: just the newline.
/// Throws: RuntimeError when no loop is running.
void print_call_graph(detail::CallSite where = detail::CallSite::current());
void print_call_graph(std::ostream& os, detail::CallSite where = detail::CallSite::current());
/// The same for `task`, which need not be the current one. An empty handle
/// prints nothing.
void print_call_graph(const AnyTaskHandle& task, detail::CallSite where = detail::CallSite::current());
void print_call_graph(const AnyTaskHandle& task, std::ostream& os,
                      detail::CallSite where = detail::CallSite::current());

}  // namespace aio
