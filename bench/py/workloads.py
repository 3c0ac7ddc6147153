#!/usr/bin/env python3
"""The workloads of ../shared/BENCH.md for Python asyncio and uvloop.

Each one is written to the same definition as its C++ counterpart in bench/
(same N, same checks that all the work was done) and prints one JSON object
with the figures BENCH.md names, in the same units as aio_bench's counters.

    python3 workloads.py --loop asyncio|uvloop --workload NAME [--n N]

Run one workload per process: sleep_fanout's peak RSS is the process's.
Every workload but sleep_fanout (which reports its first and its warm run)
and the loop_* ones (thousands of loops) runs once to warm up, then once
measured, as aio_bench's figures are means over Google Benchmark's repeated
iterations.
"""

import argparse
import asyncio
import random
import json
import math
import resource
import sys
import time

now_ns = time.monotonic_ns


class Histogram:
    """Log-linear histogram (32 sub-buckets per power of two), as bench/common.hpp:
    fixed memory, so recording a million lateness samples adds none per task."""

    SUB = 32

    def __init__(self):
        self.buckets = [0] * (64 * self.SUB)
        self.count = 0

    def record(self, ns):
        if ns < 0:
            ns = 0
        if ns < self.SUB:
            i = ns
        else:
            shift = ns.bit_length() - 6
            i = (shift + 1) * self.SUB + ((ns >> shift) - self.SUB)
        self.buckets[i] += 1
        self.count += 1

    def quantile(self, q):
        target = math.ceil(q * self.count)
        seen = 0
        for i, c in enumerate(self.buckets):
            seen += c
            if seen >= target and c:
                if i < self.SUB:
                    return float(i)
                shift = i // self.SUB - 1
                sub = i % self.SUB + self.SUB
                return float(((sub + 1) << shift) - 1)
        return 0.0


def check(ok, what):
    if not ok:
        sys.exit(f"benchmark check failed: {what}")


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


# -- loop_create_close / loop_run_noop

def loop_create_close(new_loop, n):
    create = close = 0
    for _ in range(n):
        t0 = now_ns()
        loop = new_loop()
        t1 = now_ns()
        loop.close()
        t2 = now_ns()
        create += t1 - t0
        close += t2 - t1
    return {"create_ns": create / n, "close_ns": close / n, "total_ns": (create + close) / n}


async def noop():
    return None


def loop_run_noop(new_loop, n):
    t0 = now_ns()
    for _ in range(n):
        # asyncio.run(noop()) with this loop implementation: asyncio.run is
        # exactly `with Runner() as r: r.run(main)`.
        with asyncio.Runner(loop_factory=new_loop) as runner:
            runner.run(noop())
    return {"ns_per_run": (now_ns() - t0) / n}


# -- spawn_gather/N

async def index_of(i):
    return i


async def spawn_gather_main(n):
    results = await asyncio.gather(*[index_of(i) for i in range(n)])
    return sum(results)


def spawn_gather(loop, n):
    t0 = now_ns()
    total = loop.run_until_complete(spawn_gather_main(n))
    ns = now_ns() - t0
    check(total == n * (n - 1) // 2, "spawn_gather: wrong sum")
    return {"ns_per_task": ns / n, "tasks_per_s": n / (ns / 1e9)}


# -- sleep_fanout/N

async def fanout_child(hist):
    start = now_ns()
    await asyncio.sleep(0.010)
    hist.record(now_ns() - (start + 10_000_000))


async def fanout_main(n, hist):
    results = await asyncio.gather(*[fanout_child(hist) for _ in range(n)])
    return len(results)


def sleep_fanout(loop, n):
    # As aio_bench_fanout: the first run of the process, and, up to N = 100,000,
    # one warm run after it; the plain figures are the warm run's when there is one.
    runs = []
    for _ in range(2 if n <= 100_000 else 1):
        hist = Histogram()
        t0 = now_ns()
        done = loop.run_until_complete(fanout_main(n, hist))
        ns = now_ns() - t0
        check(done == n and hist.count == n, "sleep_fanout: tasks or wake-ups missing")
        runs.append((ns, hist))
    ns, hist = runs[-1]
    peak = peak_rss_bytes()
    return {
        "wall_ms": ns / 1e6,
        "wakeups_per_s": n / (ns / 1e9),
        "lateness_p50_ms": hist.quantile(0.50) / 1e6,
        "lateness_p99_ms": hist.quantile(0.99) / 1e6,
        "first_wall_ms": runs[0][0] / 1e6,
        "first_lateness_p99_ms": runs[0][1].quantile(0.99) / 1e6,
        "peak_rss_MB": peak / 1e6,
        "peak_rss_B_per_task": peak / n,
    }


# -- yield_pingpong

async def yielder(n):
    done = 0
    for _ in range(n):
        await asyncio.sleep(0)
        done += 1
    return done


async def pingpong_main(n):
    a, b = await asyncio.gather(yielder(n), yielder(n))
    return a + b


def yield_pingpong(loop, n):
    t0 = now_ns()
    switches = loop.run_until_complete(pingpong_main(n))
    ns = now_ns() - t0
    check(switches == 2 * n, "yield_pingpong: yields missing")
    return {"ns_per_switch": ns / switches, "switches_per_s": switches / (ns / 1e9)}


# -- queue_pipeline: Queue(1024), 2 producers, 5 consumers, N items in all

async def producer(q, begin, end):
    for i in range(begin, end):
        await q.put(i)


async def consumer(q, tally):
    while True:
        v = await q.get()
        tally[0] += 1
        tally[1] += v
        q.task_done()


async def pipeline_main(n):
    q = asyncio.Queue(maxsize=1024)
    tally = [0, 0]
    consumers = [asyncio.create_task(consumer(q, tally)) for _ in range(5)]
    await asyncio.gather(producer(q, 0, n // 2), producer(q, n // 2, n))
    await q.join()
    for c in consumers:
        c.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    check(all(c.cancelled() for c in consumers), "queue_pipeline: a consumer was not cancelled")
    return tally


def queue_pipeline(loop, n):
    t0 = now_ns()
    count, total = loop.run_until_complete(pipeline_main(n))
    ns = now_ns() - t0
    check(count == n and total == n * (n - 1) // 2, "queue_pipeline: items lost")
    return {"ns_per_item": ns / n, "items_per_s": n / (ns / 1e9)}


# -- wait_for_timeout/N, wait_for_timeout_coroutine/N and wait_for_fast/N

async def long_sleep(cancelled):
    # Counts a sleep entered and never finished, as the C++ twin's guard does.
    finished = False
    try:
        await asyncio.sleep(10)
        finished = True
    finally:
        if not finished:
            cancelled[0] += 1


async def times_out(cancelled):
    try:
        if cancelled is None:
            await asyncio.wait_for(asyncio.sleep(10), 0.010)
        else:
            await asyncio.wait_for(long_sleep(cancelled), 0.010)
    except TimeoutError:
        return 1
    return 0


async def timeout_main(n, cancelled):
    results = await asyncio.gather(*[times_out(cancelled) for _ in range(n)])
    return sum(results)


def wait_for_timeout_bench(coroutine_inner):
    def run(loop, n):
        cancelled = [0] if coroutine_inner else None
        t0 = now_ns()
        timeouts = loop.run_until_complete(timeout_main(n, cancelled))
        ns = now_ns() - t0
        check(timeouts == n, "wait_for_timeout: not every wait_for timed out")
        check(not coroutine_inner or cancelled[0] == n, "wait_for_timeout: not every inner sleep was cancelled")
        return {"wall_ms": ns / 1e6, "cancels_per_s": n / (ns / 1e9)}
    return run


async def yield_once():
    await asyncio.sleep(0)
    return 1


async def fast_main(n):
    won = 0
    for _ in range(n):
        won += await asyncio.wait_for(yield_once(), 1)
    return won


def wait_for_fast(loop, n):
    t0 = now_ns()
    won = loop.run_until_complete(fast_main(n))
    ns = now_ns() - t0
    check(won == n, "wait_for_fast: the inner awaitable did not always win")
    return {"ns_per_wait_for": ns / n}


# -- cancel_sleepers/N and cancel_reverse/N

async def sleeper():
    await asyncio.sleep(10)


async def cancel_main(n, newest_first):
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    await asyncio.sleep(0)  # every task runs its first step and parks on its timer
    t0 = now_ns()
    for t in (reversed(tasks) if newest_first else tasks):
        t.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    ns = now_ns() - t0
    check(len(outcomes) == n, "cancel: outcomes missing")
    check(all(t.cancelled() for t in tasks), "cancel: a task did not end cancelled")
    return ns


def cancel_bench(newest_first):
    def run(loop, n):
        ns = loop.run_until_complete(cancel_main(n, newest_first))
        return {"ns_per_cancel": ns / n, "cancels_per_s": n / (ns / 1e9)}
    return run


# -- timeout_fast/N: wait_for_fast through asyncio.timeout

async def timeout_fast_main(n):
    won = 0
    for _ in range(n):
        async with asyncio.timeout(1):
            won += await yield_once()
    return won


def timeout_fast(loop, n):
    t0 = now_ns()
    won = loop.run_until_complete(timeout_fast_main(n))
    ns = now_ns() - t0
    check(won == n, "timeout_fast: the body did not always win")
    return {"ns_per_timeout": ns / n}


# -- as_completed/N: N tasks finishing in random order (0..63 yields each)

async def finish_after(yields, v):
    for _ in range(yields):
        await asyncio.sleep(0)
    return v


async def as_completed_main(n, seed):
    rng = random.Random(seed)
    tasks = [asyncio.create_task(finish_after(rng.randrange(64), i)) for i in range(n)]
    total = count = 0
    for f in asyncio.as_completed(tasks):
        total += await f
        count += 1
    check(count == n, "as_completed: not every task was handed out")
    return total


def as_completed_bench(loop, n):
    t0 = now_ns()
    total = loop.run_until_complete(as_completed_main(n, 1))
    ns = now_ns() - t0
    check(total == n * (n - 1) // 2, "as_completed: wrong sum")
    return {"ns_per_task": ns / n}


# -- barrier/N: N tasks through one Barrier(N), 100 rounds

BARRIER_ROUNDS = 100


async def barrier_party(b):
    total = 0
    for _ in range(BARRIER_ROUNDS):
        total += await b.wait()
    return total


async def barrier_main(n):
    b = asyncio.Barrier(n)
    sums = await asyncio.gather(*(barrier_party(b) for _ in range(n)))
    return sum(sums)


def barrier_bench(loop, n):
    t0 = now_ns()
    total = loop.run_until_complete(barrier_main(n))
    ns = now_ns() - t0
    check(total == BARRIER_ROUNDS * n * (n - 1) // 2, "barrier: arrival indices do not add up")
    return {"ns_per_pass": ns / (n * BARRIER_ROUNDS)}


# name: (function, default N, whether it takes a loop factory rather than a loop)
WORKLOADS = {
    "loop_create_close": (loop_create_close, 20_000, True),
    "loop_run_noop": (loop_run_noop, 5_000, True),
    "spawn_gather": (spawn_gather, 100_000, False),
    "sleep_fanout": (sleep_fanout, 100_000, False),
    "yield_pingpong": (yield_pingpong, 1_000_000, False),
    "queue_pipeline": (queue_pipeline, 1_000_000, False),
    "wait_for_timeout": (wait_for_timeout_bench(False), 10_000, False),
    "wait_for_timeout_coroutine": (wait_for_timeout_bench(True), 10_000, False),
    "wait_for_fast": (wait_for_fast, 100_000, False),
    "cancel_sleepers": (cancel_bench(False), 100_000, False),
    "cancel_reverse": (cancel_bench(True), 10_000, False),
    "timeout_fast": (timeout_fast, 100_000, False),
    "as_completed": (as_completed_bench, 100_000, False),
    "barrier": (barrier_bench, 1_000, False),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    ap.add_argument("--n", type=int, help="N (iterations for loop_create_close / loop_run_noop)")
    args = ap.parse_args()

    if args.loop == "uvloop":
        import uvloop
        new_loop = uvloop.new_event_loop
        version = uvloop.__version__
    else:
        new_loop = asyncio.new_event_loop
        version = sys.version.split()[0]

    fn, default_n, takes_factory = WORKLOADS[args.workload]
    n = args.n or default_n
    if takes_factory:
        figures = fn(new_loop, n)
    else:
        loop = new_loop()
        try:
            if args.workload != "sleep_fanout":
                fn(loop, n)  # warm-up
            figures = fn(loop, n)
        finally:
            loop.close()
    print(json.dumps({"workload": args.workload, "loop": args.loop, "version": version, "n": n,
                      "figures": figures}))


if __name__ == "__main__":
    main()
