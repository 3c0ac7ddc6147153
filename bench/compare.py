#!/usr/bin/env python3
"""aio next to Python asyncio and uvloop, on the workloads of ../shared/BENCH.md.

One command, after `cmake --preset release && cmake --build --preset release`:

    /usr/bin/python3 bench/compare.py            # from the repository root

It runs aio's Google Benchmark programs (build/release/bench/aio_bench and
aio_bench_fanout, one sleep_fanout N per process), then the same workloads
written for Python (bench/py/workloads.py) under asyncio and, when the Python
running this script can import it, uvloop; each `--runs` times, in one run of
this script, and prints one Markdown table of the medians: workload, aio,
asyncio, uvloop, and the ratios asyncio/aio and uvloop/aio (every figure is a
time, a lateness or a size: a ratio above 1 means aio is that many times
faster, or smaller). Then the loop_create_close setup variants of aio.

Python runs one workload per process, at the same N as aio unless --py-scale
divides it (per-item figures stay comparable; the table says so).

`--suite net` runs the networking workloads instead (tcp_echo, tcp_echo/sock,
tcp_echo_1conn, tcp_connect_close/10000, tcp_stream, udp_echo): aio's
aio_bench_net, the raw liburing floor (aio_floor, built from bench/floor/floor.c),
Tokio's peer when built (../shared/peers/tokio, see --tokio), asyncio and uvloop,
interleaved run by run; the ratios are taken within each run and their median
printed, with issue 9's goals checked on them. `--seconds` sets the length of
the timed workloads (AIO_BENCH_SECONDS for every program; BENCH.md: 5).

`--suite sys` runs file_read/10000 (aio_bench_sys, next to its plain pread(2)
loop, file_read_pread/10000, and Python's os.pread on the default executor)
and subprocess_spawn/1000 (aio, asyncio, uvloop), interleaved, with issue 13's
goals checked on the same-pass ratios.

sleep_fanout is reported twice: "first run of the process", which also pays
the first touch of the memory it needs (page faults), and "warm", the runs
after it in the same process (aio: Google Benchmark's further iterations;
Python: one more run at N = 100,000, none at 1,000,000 — minutes).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# One row per figure: (label, aio benchmark name, aio counter, python workload,
# python N, python figure, unit, scale applied to both figures for display,
# whether the figure is per item (comparable when Python's N is scaled)).
ROWS = [
    ("loop_create_close (create + close)", "loop_create_close", "total_ns",
     "loop_create_close", 20_000, "total_ns", "µs", 1e-3, True),
    ("  create", "loop_create_close", "create_ns",
     "loop_create_close", 20_000, "create_ns", "µs", 1e-3, True),
    ("  close", "loop_create_close", "close_ns",
     "loop_create_close", 20_000, "close_ns", "µs", 1e-3, True),
    ("loop_run_noop", "loop_run_noop", "ns_per_run",
     "loop_run_noop", 5_000, "ns_per_run", "µs/run", 1e-3, True),
    ("spawn_gather/100000", "spawn_gather/100000", "ns_per_task",
     "spawn_gather", 100_000, "ns_per_task", "ns/task", 1, True),
    ("sleep_fanout/100000 wall (warm)", "sleep_fanout/100000", "wall_ms",
     "sleep_fanout", 100_000, "wall_ms", "ms", 1, False),
    ("  wall, first run of the process", "sleep_fanout/100000", "first_wall_ms",
     "sleep_fanout", 100_000, "first_wall_ms", "ms", 1, False),
    ("  lateness p50", "sleep_fanout/100000", "lateness_p50_ms",
     "sleep_fanout", 100_000, "lateness_p50_ms", "ms", 1, False),
    ("  lateness p99", "sleep_fanout/100000", "lateness_p99_ms",
     "sleep_fanout", 100_000, "lateness_p99_ms", "ms", 1, False),
    ("  lateness p99, first run", "sleep_fanout/100000", "first_lateness_p99_ms",
     "sleep_fanout", 100_000, "first_lateness_p99_ms", "ms", 1, False),
    ("  peak RSS", "sleep_fanout/100000", "peak_rss_MB",
     "sleep_fanout", 100_000, "peak_rss_MB", "MB", 1, False),
    ("sleep_fanout/1000000 wall (warm; Python: its one run)", "sleep_fanout/1000000", "wall_ms",
     "sleep_fanout", 1_000_000, "wall_ms", "ms", 1, False),
    ("  wall, first run of the process", "sleep_fanout/1000000", "first_wall_ms",
     "sleep_fanout", 1_000_000, "first_wall_ms", "ms", 1, False),
    ("  lateness p99 (warm; Python: its one run)", "sleep_fanout/1000000", "lateness_p99_ms",
     "sleep_fanout", 1_000_000, "lateness_p99_ms", "ms", 1, False),
    ("  peak RSS per task", "sleep_fanout/1000000", "peak_rss_B_per_task",
     "sleep_fanout", 1_000_000, "peak_rss_B_per_task", "B/task", 1, True),
    ("yield_pingpong", "yield_pingpong", "ns_per_switch",
     "yield_pingpong", 1_000_000, "ns_per_switch", "ns/switch", 1, True),
    ("queue_pipeline", "queue_pipeline", "ns_per_item",
     "queue_pipeline", 1_000_000, "ns_per_item", "ns/item", 1, True),
    ("wait_for_timeout/10000 wall", "wait_for_timeout/10000", "wall_ms",
     "wait_for_timeout", 10_000, "wall_ms", "ms", 1, False),
    ("  with a coroutine around the sleep", "wait_for_timeout_coroutine/10000", "wall_ms",
     "wait_for_timeout_coroutine", 10_000, "wall_ms", "ms", 1, False),
    ("wait_for_fast/100000", "wait_for_fast/100000", "ns_per_wait_for",
     "wait_for_fast", 100_000, "ns_per_wait_for", "ns/wait_for", 1, True),
    ("cancel_sleepers/100000", "cancel_sleepers/100000", "ns_per_cancel",
     "cancel_sleepers", 100_000, "ns_per_cancel", "ns/cancel", 1, True),
    ("cancel_sleepers/1000", "cancel_sleepers/1000", "ns_per_cancel",
     "cancel_sleepers", 1_000, "ns_per_cancel", "ns/cancel", 1, True),
    ("cancel_sleepers/10000", "cancel_sleepers/10000", "ns_per_cancel",
     "cancel_sleepers", 10_000, "ns_per_cancel", "ns/cancel", 1, True),
    ("cancel_reverse/1000", "cancel_reverse/1000", "ns_per_cancel",
     "cancel_reverse", 1_000, "ns_per_cancel", "ns/cancel", 1, True),
    ("cancel_reverse/10000", "cancel_reverse/10000", "ns_per_cancel",
     "cancel_reverse", 10_000, "ns_per_cancel", "ns/cancel", 1, True),
    ("cancel_reverse/100000", "cancel_reverse/100000", "ns_per_cancel",
     "cancel_reverse", 100_000, "ns_per_cancel", "ns/cancel", 1, True),
    ("timeout_fast/100000", "timeout_fast/100000", "ns_per_timeout",
     "timeout_fast", 100_000, "ns_per_timeout", "ns/timeout", 1, True),
    ("as_completed/100000", "as_completed/100000", "ns_per_task",
     "as_completed", 100_000, "ns_per_task", "ns/task", 1, True),
    ("barrier/1000", "barrier/1000", "ns_per_pass",
     "barrier", 1_000, "ns_per_pass", "ns/pass", 1, True),
]

FANOUT_NS = (100_000, 1_000_000)


def clean_name(name):
    """The BENCH.md name: without Google Benchmark's /iterations:N and /real_time."""
    return re.sub(r"/(iterations:\d+|real_time)", "", name)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_json(cmd, timeout):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, timeout=timeout, text=True).stdout
    return json.loads(out)


def aio_run(build, run_index):
    """One run of aio's benchmarks: {benchmark name: counters}."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [([os.path.join(build, "bench", "aio_bench")], "aio_bench")]
        for n in FANOUT_NS:
            # Enough time for warm runs after the first (cold) one: 1M takes 0.4-2 s a run.
            jobs.append(([os.path.join(build, "bench", "aio_bench_fanout"), f"--benchmark_filter=^sleep_fanout/{n}$",
                          f"--benchmark_min_time={0.5 if n < 1_000_000 else 4}"], f"sleep_fanout/{n}"))
        for cmd, what in jobs:
            log(f"[run {run_index}] aio: {what}")
            out = os.path.join(tmp, "out.json")
            subprocess.run(cmd + ["--benchmark_format=console", f"--benchmark_out={out}",
                                  "--benchmark_out_format=json"],
                           check=True, stdout=subprocess.DEVNULL, timeout=1800)
            with open(out) as f:
                data = json.load(f)
            for b in data["benchmarks"]:
                results[clean_name(b["name"])] = b
    return results


def py_run(python, loop, workload, n, run_index):
    log(f"[run {run_index}] {loop}: {workload}/{n}")
    return run_json([python, os.path.join(HERE, "py", "workloads.py"), "--loop", loop,
                     "--workload", workload, "--n", str(n)], timeout=3600)["figures"]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, scale=1):
    if v is None:
        return "–"
    v *= scale
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(peer, ours):
    if peer is None or ours is None or ours == 0:
        return "–"
    return f"{peer / ours:,.1f}×"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"Linux {platform.release()}, {os.cpu_count()} × {cpu}"


# -- the networking suite (--suite net)

# (label, unit, aio benchmark, aio counter, floor (workload, figure), tokio
# (workload, figure), python (workload, n, figure), whether higher is better).
# The floor column of tcp_stream is the blocking send/recv pair (aio_bench_net's
# tcp_stream/blocking_pair); tcp_echo/sock is compared with the same floor as
# tcp_echo (the floor is socket-level already).
NET_ROWS = [
    ("tcp_echo", "round trips/s", "tcp_echo", "round_trips_per_s", ("tcp_echo", "round_trips_per_s"),
     ("tcp_echo", "round_trips_per_s"), ("tcp_echo", 64, "round_trips_per_s"), True),
    ("  p50", "µs", "tcp_echo", "p50_us", ("tcp_echo", "p50_us"), ("tcp_echo", "p50_us"),
     ("tcp_echo", 64, "p50_us"), False),
    ("  p99", "µs", "tcp_echo", "p99_us", ("tcp_echo", "p99_us"), ("tcp_echo", "p99_us"),
     ("tcp_echo", 64, "p99_us"), False),
    ("tcp_echo/sock", "round trips/s", "tcp_echo/sock", "round_trips_per_s", ("tcp_echo", "round_trips_per_s"),
     None, ("tcp_echo/sock", 64, "round_trips_per_s"), True),
    ("  p50", "µs", "tcp_echo/sock", "p50_us", ("tcp_echo", "p50_us"), None, ("tcp_echo/sock", 64, "p50_us"), False),
    ("  p99", "µs", "tcp_echo/sock", "p99_us", ("tcp_echo", "p99_us"), None, ("tcp_echo/sock", 64, "p99_us"), False),
    ("tcp_echo_1conn", "round trips/s", "tcp_echo_1conn", "round_trips_per_s",
     ("tcp_echo_1conn", "round_trips_per_s"), None, ("tcp_echo_1conn", 1, "round_trips_per_s"), True),
    ("  p50", "µs", "tcp_echo_1conn", "p50_us", ("tcp_echo_1conn", "p50_us"), None,
     ("tcp_echo_1conn", 1, "p50_us"), False),
    ("  p99", "µs", "tcp_echo_1conn", "p99_us", ("tcp_echo_1conn", "p99_us"), None,
     ("tcp_echo_1conn", 1, "p99_us"), False),
    ("tcp_connect_close/10000", "connections/s", "tcp_connect_close/10000", "conns_per_s", None, None,
     ("tcp_connect_close", 10_000, "conns_per_s"), True),
    ("  fds left open", "fds", "tcp_connect_close/10000", "fds_left_open", None, None,
     ("tcp_connect_close", 10_000, "fds_left_open"), False),
    ("tcp_stream (floor: blocking send/recv pair)", "GB/s", "tcp_stream", "GB_per_s",
     ("tcp_stream/blocking_pair", "GB_per_s"), None, ("tcp_stream", 1, "GB_per_s"), True),
    ("  peak RSS", "MB", "tcp_stream", "peak_rss_MB", ("tcp_stream/blocking_pair", "peak_rss_MB"), None,
     ("tcp_stream", 1, "peak_rss_MB"), False),
    ("udp_echo", "round trips/s", "udp_echo", "round_trips_per_s", None, None,
     ("udp_echo", 64, "round_trips_per_s"), True),
    ("  p50", "µs", "udp_echo", "p50_us", None, None, ("udp_echo", 64, "p50_us"), False),
    ("  p99", "µs", "udp_echo", "p99_us", None, None, ("udp_echo", 64, "p99_us"), False),
]

NET_AIO = ["tcp_echo", "tcp_echo/sock", "tcp_echo_1conn", "tcp_connect_close/10000", "tcp_stream",
           "tcp_stream/blocking_pair", "udp_echo"]

# Issue 9's goals as same-pass ratios: (text, row label's aio benchmark, counter,
# peer column, peer's figure source, bound, "ge" (aio ≥ bound × peer) or "le").
NET_GOALS = [
    ("tcp_echo ≥ 1.10 × the floor's round trips/s", "tcp_echo", "round_trips_per_s", "floor", 1.10, "ge"),
    ("tcp_echo p99 ≤ the floor's", "tcp_echo", "p99_us", "floor", 1.0, "le"),
    ("tcp_echo_1conn p50 ≤ 1.2 × the floor's", "tcp_echo_1conn", "p50_us", "floor", 1.2, "le"),
    ("tcp_connect_close ≥ 2 × uvloop", "tcp_connect_close/10000", "conns_per_s", "uvloop", 2.0, "ge"),
    ("udp_echo ≥ 2 × uvloop", "udp_echo", "round_trips_per_s", "uvloop", 2.0, "ge"),
    ("tcp_stream ≥ 0.8 × a blocking send/recv pair", "tcp_stream", "GB_per_s", "floor", 0.8, "ge"),
]


def run_tsv(cmd, timeout):
    """A peer program's `peer<TAB>workload<TAB>figure<TAB>value<TAB>unit` lines: {(workload, figure): value}."""
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, timeout=timeout, text=True).stdout
    figures = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 5:
            figures[(parts[1], parts[2])] = float(parts[3])
    return figures


def aio_runs(build, binary, names, pattern, run_index):
    """Runs each of `names` in its own process of bench/`binary` (so a peak RSS
    is that workload's own); `pattern` turns an escaped name into the filter."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            log(f"[run {run_index}] aio: {name}")
            out = os.path.join(tmp, "out.json")
            subprocess.run([os.path.join(build, "bench", binary),
                            f"--benchmark_filter={pattern.format(re.escape(name))}", f"--benchmark_out={out}",
                            "--benchmark_out_format=json"], check=True, stdout=subprocess.DEVNULL, timeout=600)
            with open(out) as f:
                for b in json.load(f)["benchmarks"]:
                    results[clean_name(b["name"])] = b
    return results


def net_aio_run(build, run_index):
    return aio_runs(build, "aio_bench_net", NET_AIO, "^{}/iterations:", run_index)


def net_main(args, loops):
    os.environ["AIO_BENCH_SECONDS"] = str(args.seconds)
    floor = os.path.join(args.build, "bench", "aio_floor")
    tokio = args.tokio if args.tokio and os.access(args.tokio, os.X_OK) else None
    if not tokio:
        log("Tokio's peer is not built (see --tokio): its column stays empty")
    start = time.time()
    load_before = os.getloadavg()
    runs = []  # per run: {column: function (row) -> figure}
    py_wanted = sorted({r[6][:2] for r in NET_ROWS if r[6]})
    for i in range(args.runs):
        run = {"aio": net_aio_run(args.build, i + 1)}
        log(f"[run {i + 1}] floor")
        run["floor"] = run_tsv([floor, "tcp_echo", "tcp_echo_1conn"], timeout=120)
        if tokio:
            log(f"[run {i + 1}] tokio")
            run["tokio"] = run_tsv([tokio, "tcp_echo"], timeout=120)
        for loop in loops:
            run[loop] = {(w, n): py_run(args.python, loop, w, n, i + 1) for w, n in py_wanted}
        runs.append(run)
    load_after = os.getloadavg()

    def figure(run, column, row):
        label, unit, name, counter, floor_src, tokio_src, py_src, _ = row
        if column == "aio":
            return run["aio"].get(name, {}).get(counter)
        if column == "floor" and floor_src:
            if floor_src[0] == "tcp_stream/blocking_pair":  # one of aio_bench_net's rows
                return run["aio"][floor_src[0]].get(floor_src[1])
            return run["floor"].get(floor_src)
        if column == "tokio" and tokio_src and "tokio" in run:
            return run["tokio"].get(tokio_src)
        if column in ("asyncio", "uvloop") and py_src and column in run:
            return run[column].get(py_src[:2], {}).get(py_src[2])
        return None

    def ratio_of(row, column):
        """Median over the runs of aio ÷ peer, each run's own."""
        values = []
        for run in runs:
            ours, theirs = figure(run, "aio", row), figure(run, column, row)
            if ours is not None and theirs:
                values.append(ours / theirs)
        return statistics.median(values) if values else None

    columns = ["floor", "tokio", "asyncio", "uvloop"]
    lines = [f"Machine: {machine()}; load average {load_before[0]:.2f} at the start, "
             f"{load_after[0]:.2f} at the end; {time.time() - start:.0f} s in all; "
             f"{args.runs} interleaved runs, timed workloads {args.seconds:g} s each.",
             "Figures: medians of the runs. Ratios: aio ÷ peer within each run, median of those "
             "(rates: above 1 aio is faster; latencies and sizes: below 1 aio is faster).", "",
             "| workload | unit | aio | floor | Tokio | asyncio | uvloop | aio÷floor | aio÷Tokio | aio÷asyncio | aio÷uvloop |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in NET_ROWS:
        cells = [fmt(median([figure(r, c, row) for r in runs])) for c in ["aio"] + columns]
        ratios = []
        for c in columns:
            v = ratio_of(row, c)
            ratios.append("–" if v is None else f"{v:.2f}")
        lines.append(f"| {row[0]} | {row[1]} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")

    lines += ["", "Issue 9's goals, on the same-pass ratios:", "",
              "| goal | aio ÷ peer (median of runs) | per run | met |", "|---|---:|---|---|"]
    by_name = {(r[2], r[3]): r for r in NET_ROWS}
    for text, name, counter, column, bound, sense in NET_GOALS:
        row = by_name[(name, counter)]
        per_run = []
        for run in runs:
            ours, theirs = figure(run, "aio", row), figure(run, column, row)
            per_run.append(None if ours is None or not theirs else ours / theirs)
        v = ratio_of(row, column)
        met = "–" if v is None else ("yes" if (v >= bound if sense == "ge" else v <= bound) else "no")
        lines.append(f"| {text} | {'–' if v is None else f'{v:.2f}'} | "
                     + ", ".join("–" if x is None else f"{x:.2f}" for x in per_run) + f" | {met} |")
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: ({"/".join(map(str, kk)): vv for kk, vv in v.items()} if k != "aio" else v)
                        for k, v in run.items()} for run in runs], f, indent=1)


# -- the files and subprocesses suite (--suite sys)

# (label, unit, aio benchmark, counter, pread reference (aio_bench_sys row) or
# None, python (workload, n, figure)); every figure is a rate: higher is better.
SYS_ROWS = [
    ("file_read/10000 (4 KiB, 64 in flight; Python: os.pread on the executor)", "reads/s", "file_read/10000",
     "reads_per_s", "file_read_pread/10000", ("file_read", 10_000, "reads_per_s")),
    ("subprocess_spawn/1000 (/bin/true, 16 at a time)", "spawns/s", "subprocess_spawn/1000", "spawns_per_s", None,
     ("subprocess_spawn", 1_000, "spawns_per_s")),
]
SYS_AIO = ["file_read/10000", "file_read_pread/10000", "subprocess_spawn/1000"]
# Issue 13's goals as same-pass ratios: (text, aio benchmark, peer column, bound).
SYS_GOALS = [
    ("file_read ≥ 3 × a plain pread loop", "file_read/10000", "pread", 3.0),
    ("subprocess_spawn ≥ 3 × asyncio", "subprocess_spawn/1000", "asyncio", 3.0),
    ("subprocess_spawn ≥ uvloop", "subprocess_spawn/1000", "uvloop", 1.0),
]


def sys_aio_run(build, run_index):
    return aio_runs(build, "aio_bench_sys", SYS_AIO, "^{}(/|$)", run_index)


def sys_main(args, loops):
    start = time.time()
    load_before = os.getloadavg()
    runs = []
    for i in range(args.runs):
        run = {"aio": sys_aio_run(args.build, i + 1)}
        for loop in loops:
            run[loop] = {(w, n): py_run(args.python, loop, w, n, i + 1) for _, _, _, _, _, (w, n, _) in SYS_ROWS}
        runs.append(run)
    load_after = os.getloadavg()

    def figure(run, column, row):
        _, _, name, counter, pread, (w, n, fig) = row
        if column == "aio":
            return run["aio"].get(name, {}).get(counter)
        if column == "pread":
            return run["aio"].get(pread, {}).get(counter) if pread else None
        return run[column].get((w, n), {}).get(fig) if column in run else None

    def ratios(row, column):
        values = []
        for run in runs:
            ours, theirs = figure(run, "aio", row), figure(run, column, row)
            values.append(ours / theirs if ours is not None and theirs else None)
        return values

    columns = ["pread", "asyncio", "uvloop"]
    lines = [f"Machine: {machine()}; load average {load_before[0]:.2f} at the start, "
             f"{load_after[0]:.2f} at the end; {time.time() - start:.0f} s in all; {args.runs} interleaved runs.",
             "Figures: medians of the runs. Ratios: aio ÷ peer within each run, median of those "
             "(rates: above 1 aio is faster).", "",
             "| workload | unit | aio | pread loop | asyncio | uvloop | aio÷pread | aio÷asyncio | aio÷uvloop |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in SYS_ROWS:
        cells = [fmt(median([figure(r, c, row) for r in runs])) for c in ["aio"] + columns]
        rs = []
        for c in columns:
            v = median(ratios(row, c))
            rs.append("–" if v is None else f"{v:.2f}")
        lines.append(f"| {row[0]} | {row[1]} | " + " | ".join(cells) + " | " + " | ".join(rs) + " |")
    lines += ["", "Issue 13's goals, on the same-pass ratios:", "",
              "| goal | aio ÷ peer (median of runs) | per run | met |", "|---|---:|---|---|"]
    by_name = {r[2]: r for r in SYS_ROWS}
    for text, name, column, bound in SYS_GOALS:
        per_run = ratios(by_name[name], column)
        v = median(per_run)
        met = "–" if v is None else ("yes" if v >= bound else "no")
        lines.append(f"| {text} | {'–' if v is None else f'{v:.2f}'} | "
                     + ", ".join("–" if x is None else f"{x:.2f}" for x in per_run) + f" | {met} |")
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: ({"/".join(map(str, kk)): vv for kk, vv in v.items()} if k != "aio" else v)
                        for k, v in run.items()} for run in runs], f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"), help="aio's CMake build directory")
    ap.add_argument("--runs", type=int, default=3, help="runs of everything; the table shows medians (default 3)")
    ap.add_argument("--py-runs-1m", type=int, default=1,
                    help="runs of Python's sleep_fanout/1000000, minutes each (default 1)")
    ap.add_argument("--py-scale", type=int, default=1,
                    help="divide Python's N by this for workloads with N >= 100000 (per-item figures only)")
    ap.add_argument("--python", default=sys.executable, help="the Python to run asyncio and uvloop with")
    ap.add_argument("--no-python", action="store_true", help="aio only")
    ap.add_argument("--json", help="also write every measurement to this file")
    ap.add_argument("--suite", choices=["core", "net", "sys"], default="core",
                    help="core: the loop, task and timer workloads (default); net: the networking workloads; "
                         "sys: file_read and subprocess_spawn")
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="net: seconds of each timed workload (BENCH.md: 5)")
    ap.add_argument("--tokio", default="/tmp/peer-tokio/release/tokio_bench",
                    help="net: Tokio's peer program (../shared/peers/tokio built with cargo)")
    args = ap.parse_args()

    loops = []
    if not args.no_python:
        loops.append("asyncio")
        probe = subprocess.run([args.python, "-c", "import uvloop"], capture_output=True)
        if probe.returncode == 0:
            loops.append("uvloop")
        else:
            log(f"uvloop is not importable by {args.python}: its column stays empty")
    if args.suite == "net":
        net_main(args, loops)
        return
    if args.suite == "sys":
        sys_main(args, loops)
        return

    start = time.time()
    load_before = os.getloadavg()
    aio_runs = [aio_run(args.build, i + 1) for i in range(args.runs)]

    # Python: every (workload, N) once per run, one process each.
    wanted = sorted({(r[3], r[4]) for r in ROWS})
    py = {loop: {} for loop in loops}
    for loop in loops:
        for workload, n in wanted:
            pn = n // args.py_scale if n >= 100_000 else n
            runs = args.py_runs_1m if n >= 1_000_000 and workload == "sleep_fanout" else args.runs
            py[loop][(workload, n)] = (pn, [py_run(args.python, loop, workload, pn, i + 1) for i in range(runs)])
    load_after = os.getloadavg()

    def aio_figure(name, counter):
        return median([r[name].get(counter) if name in r else None for r in aio_runs])

    def py_figure(loop, workload, n, figure):
        if loop not in py:
            return None, n
        pn, runs = py[loop][(workload, n)]
        return median([r.get(figure) for r in runs]), pn

    lines = []
    lines.append(f"Machine: {machine()}; load average {load_before[0]:.2f} at the start, "
                 f"{load_after[0]:.2f} at the end; {time.time() - start:.0f} s in all.")
    pyver = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True).stdout.strip() if loops else "-"
    uv = ""
    if "uvloop" in loops:
        uv = subprocess.run([args.python, "-c", "import uvloop; print(uvloop.__version__)"],
                            capture_output=True, text=True).stdout.strip()
    lines.append(f"aio: medians of {args.runs} runs. Python {pyver} asyncio"
                 + (f", uvloop {uv}" if uv else "") + f": medians of {args.runs} runs "
                 f"({args.py_runs_1m} for sleep_fanout/1000000).")
    lines.append("")
    lines.append("| workload | unit | aio | asyncio | uvloop | asyncio/aio | uvloop/aio |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    notes = set()
    for label, name, counter, workload, n, figure, unit, scale, per_item in ROWS:
        ours = aio_figure(name, counter)
        cells = []
        peers = []
        for loop in ("asyncio", "uvloop"):
            v, pn = py_figure(loop, workload, n, figure)
            mark = ""
            if v is not None and pn != n:
                mark = f" (N={pn:,})"
                notes.add("(N=…): Python ran a smaller N; only per-item figures compare (no ratio otherwise).")
            # A whole-run figure at another N is shown but not compared.
            peers.append(v if pn == n or per_item else None)
            cells.append(fmt(v, scale) + mark)
        ours_cell = fmt(ours, scale)
        if ours is None:
            ours_cell = "no figure"
            notes.add("no figure: aio's benchmark reported no such counter.")
        lines.append(f"| {label} | {unit} | {ours_cell} | {cells[0]} | {cells[1]} | "
                     f"{ratio(peers[0], ours)} | {ratio(peers[1], ours)} |")
    for note in sorted(notes):
        lines.append("")
        lines.append(note)

    flat = []
    for n in (1_000, 10_000, 100_000):
        rev, fwd = aio_figure(f"cancel_reverse/{n}", "ns_per_cancel"), aio_figure(f"cancel_sleepers/{n}", "ns_per_cancel")
        if rev and fwd:
            flat.append(f"{rev / fwd:.2f} at N = {n:,}")
    if flat:
        lines.append("")
        lines.append("aio cancel_reverse/N ÷ cancel_sleepers/N (newest first ÷ oldest first): " + ", ".join(flat) + ".")

    # Issue 11's goal: a cancellation costs at most 1.25 x one bare throw+catch of the same run.
    ref = aio_figure("throw_catch", "ns_per_throw")
    if ref:
        parts = []
        for name in ("cancel_sleepers/100000", "cancel_reverse/10000"):
            v = aio_figure(name, "ns_per_cancel")
            if v:
                parts.append(f"{name} {v / ref:.2f}")
        lines.append("")
        lines.append(f"aio throw_catch (one throw+catch through one frame): {fmt(ref)} ns; "
                     "cancellation ÷ throw_catch: " + ", ".join(parts) + " (goal ≤ 1.25).")

    # aio's ring setup variants
    lines.append("")
    lines.append("aio loop_create_close by ring setup (medians; µs per loop; flags as the kernel accepted them):")
    lines.append("")
    lines.append("| variant | create | close | total | io_uring setup flags |")
    lines.append("|---|---:|---:|---:|---|")
    names = [k for k in aio_runs[0] if k.startswith(("loop_create_close", "ring_create_close"))]
    for name in names:
        lines.append(f"| {name} | {fmt(aio_figure(name, 'create_ns'), 1e-3)} | "
                     f"{fmt(aio_figure(name, 'close_ns'), 1e-3)} | {fmt(aio_figure(name, 'total_ns'), 1e-3)} | "
                     f"{aio_runs[0][name].get('label', '').replace('|', ' ')} |")

    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"aio": aio_runs, "python": {loop: {f"{w}/{n}": v for (w, n), v in d.items()}
                                                   for loop, d in py.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
