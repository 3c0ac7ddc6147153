#!/usr/bin/env python3
"""The workloads of ../shared/BENCH.md for Python asyncio and uvloop.

Each one is written to the same definition as its C++ counterpart in bench/
(same N, same checks that all the work was done) and prints one JSON object
with the figures BENCH.md names, in the same units as aio_bench's counters.

    python3 workloads.py --loop asyncio|uvloop --workload NAME [--n N]

file_read reads with os.pread on the default executor (asyncio has no file
I/O of its own); subprocess_spawn is create_subprocess_exec("/bin/true") +
wait(), 16 at a time.

The networking workloads (tcp_echo, tcp_echo/sock, tcp_echo_1conn,
tcp_connect_close, tcp_stream, udp_echo) last AIO_BENCH_SECONDS each (default
5), as aio_bench_net's; their --n is the client or connection count.

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


# -- networking: tcp_echo, tcp_echo/sock, tcp_echo_1conn, tcp_connect_close/N,
# tcp_stream, udp_echo, as bench/net_bench.cpp. Server and clients in one
# process on one loop, over 127.0.0.1; the timed ones last AIO_BENCH_SECONDS
# (default 5). N is the client count (tcp_echo, udp_echo) or the connection
# count (tcp_connect_close).

import os
import socket

MESSAGE = 64


def run_seconds():
    try:
        v = float(os.environ.get("AIO_BENCH_SECONDS", "5"))
    except ValueError:
        v = 5.0
    return v if v > 0 else 5.0


class PingPong:
    """The figures of one ping-pong run, shared by its clients; the clock
    starts once every client is connected (connection setup is not timed)."""

    def __init__(self, clients):
        self.clients = clients
        self.duration_ns = int(run_seconds() * 1e9)
        self.connected = 0
        self.go = asyncio.Event()
        self.t0 = self.t_end = 0
        self.trips = 0
        self.latency = Histogram()

    async def ready(self):
        self.connected += 1
        if self.connected == self.clients:
            self.t0 = now_ns()
            self.go.set()
        await self.go.wait()

    def record(self, start):
        t = now_ns()
        self.latency.record(t - start)
        self.trips += 1
        if t - self.t0 < self.duration_ns:
            return True
        self.t_end = max(self.t_end, t)
        return False

    def figures(self):
        check(self.trips > 0, "no round trip")
        secs = (self.t_end - self.t0) / 1e9
        return {"round_trips_per_s": self.trips / secs, "p50_us": self.latency.quantile(0.50) / 1e3,
                "p99_us": self.latency.quantile(0.99) / 1e3, "round_trips": self.trips}


async def _echo_handler(reader, writer):
    try:
        while True:
            data = await reader.readexactly(MESSAGE)
            writer.write(data)
            await writer.drain()
    except asyncio.IncompleteReadError as e:
        check(not e.partial, "tcp_echo: a client closed in the middle of a message")
    writer.close()
    await writer.wait_closed()


async def _echo_client(port, p):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await p.ready()
    message = b"x" * MESSAGE
    more = True
    while more:
        start = now_ns()
        writer.write(message)
        await writer.drain()
        echo = await reader.readexactly(MESSAGE)
        check(echo[0] == 0x78, "tcp_echo: wrong echo")
        more = p.record(start)
    writer.close()
    await writer.wait_closed()


async def _tcp_echo_main(clients):
    p = PingPong(clients)
    server = await asyncio.start_server(_echo_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(*[_echo_client(port, p) for _ in range(clients)])
    server.close()
    await server.wait_closed()
    return p.figures()


def tcp_echo(loop, n):
    return loop.run_until_complete(_tcp_echo_main(n))


def _nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _recv_exactly(loop, sock, buf):
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = await loop.sock_recv_into(sock, view[got:])
        if n == 0:
            check(got == 0, "tcp_echo/sock: EOF in the middle of a message")
            return False
        got += n
    return True


async def _sock_echo_handler(loop, sock):
    buf = bytearray(MESSAGE)
    while await _recv_exactly(loop, sock, buf):
        await loop.sock_sendall(sock, buf)
    sock.close()


async def _sock_echo_server(loop, listener, clients):
    handlers = []
    for _ in range(clients):
        sock, _addr = await loop.sock_accept(listener)
        sock.setblocking(False)
        _nodelay(sock)
        handlers.append(_sock_echo_handler(loop, sock))
    await asyncio.gather(*handlers)


async def _sock_echo_client(loop, addr, p):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    _nodelay(sock)
    await loop.sock_connect(sock, addr)
    await p.ready()
    out, buf = b"x" * MESSAGE, bytearray(MESSAGE)
    more = True
    while more:
        start = now_ns()
        await loop.sock_sendall(sock, out)
        got = await _recv_exactly(loop, sock, buf)
        check(got and buf[0] == 0x78, "tcp_echo/sock: wrong echo")
        more = p.record(start)
    sock.close()


async def _tcp_echo_sock_main(clients):
    loop = asyncio.get_running_loop()
    p = PingPong(clients)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.setblocking(False)
    addr = listener.getsockname()
    await asyncio.gather(_sock_echo_server(loop, listener, clients),
                         *[_sock_echo_client(loop, addr, p) for _ in range(clients)])
    listener.close()
    return p.figures()


def tcp_echo_sock(loop, n):
    return loop.run_until_complete(_tcp_echo_sock_main(n))


def _open_fds():
    return len(os.listdir("/proc/self/fd"))


async def _tcp_connect_close_main(n):
    state = {"started": 0, "done": 0, "served": 0}

    async def handler(reader, writer):
        data = await reader.readexactly(1)
        writer.write(data)
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        state["served"] += 1

    async def client(port):
        while state["started"] < n:
            state["started"] += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"x")
            await writer.drain()
            check(await reader.readexactly(1) == b"x", "tcp_connect_close: wrong echo")
            writer.close()
            await writer.wait_closed()
            state["done"] += 1

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(*[client(port) for _ in range(16)])
    server.close()
    await server.wait_closed()
    # Python 3.11's wait_closed does not wait for the handlers: let them end.
    while state["served"] < n:
        await asyncio.sleep(0.001)
    return state


def tcp_connect_close(loop, n):
    # One connection first, untimed: what the loop creates once at its first
    # socket (uvloop: one fd) is not a connection's fd left open.
    loop.run_until_complete(_tcp_connect_close_main(1))
    before = _open_fds()
    t0 = now_ns()
    state = loop.run_until_complete(_tcp_connect_close_main(n))
    secs = (now_ns() - t0) / 1e9
    left = _open_fds() - before
    check(state["done"] == n and state["served"] == n, "tcp_connect_close: connections missing")
    check(left == 0, "tcp_connect_close: a file descriptor was left open")
    return {"conns_per_s": n / secs, "us_per_conn": secs * 1e6 / n, "fds_left_open": left}


STREAM_BYTES = 1 << 30
CHUNK = 64 * 1024


async def _tcp_stream_main():
    s = {"received": 0, "t_end": 0}
    done = asyncio.Event()

    async def sink(reader, writer):
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            s["received"] += len(data)
        s["t_end"] = now_ns()
        writer.close()
        await writer.wait_closed()
        done.set()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk = b"x" * CHUNK
    t0 = now_ns()
    for _ in range(STREAM_BYTES // CHUNK):
        writer.write(chunk)
        await writer.drain()
    writer.close()
    await writer.wait_closed()
    await done.wait()
    server.close()
    await server.wait_closed()
    check(s["received"] == STREAM_BYTES, "tcp_stream: bytes missing")
    return {"GB_per_s": STREAM_BYTES / (s["t_end"] - t0), "peak_rss_MB": peak_rss_bytes() / 1e6}


def tcp_stream(loop, n):
    return loop.run_until_complete(_tcp_stream_main())


class _UdpServer(asyncio.DatagramProtocol):
    def __init__(self, clients, finished):
        self.clients, self.finished, self.done = clients, finished, 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) == 1:  # a client is done
            self.done += 1
            if self.done == self.clients:
                self.finished.set_result(None)
            return
        self.transport.sendto(data, addr)


class _UdpClient(asyncio.DatagramProtocol):
    waiter = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)


async def _udp_client(loop, addr, p):
    transport, proto = await loop.create_datagram_endpoint(_UdpClient, remote_addr=addr)
    await p.ready()
    message = b"x" * MESSAGE
    more = True
    while more:
        start = now_ns()
        proto.waiter = loop.create_future()
        transport.sendto(message)
        data = await proto.waiter
        check(len(data) == MESSAGE, "udp_echo: wrong echo")
        more = p.record(start)
    transport.sendto(b"!")
    transport.close()


async def _udp_echo_main(clients):
    loop = asyncio.get_running_loop()
    p = PingPong(clients)
    finished = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(lambda: _UdpServer(clients, finished),
                                                       local_addr=("127.0.0.1", 0))
    addr = transport.get_extra_info("sockname")
    await asyncio.gather(*[_udp_client(loop, addr, p) for _ in range(clients)])
    await finished
    transport.close()
    return p.figures()


def udp_echo(loop, n):
    return loop.run_until_complete(_udp_echo_main(n))


# The networking workloads run once, unwarmed: each lasts seconds.
NO_WARMUP = {"tcp_echo", "tcp_echo/sock", "tcp_echo_1conn", "tcp_connect_close", "tcp_stream", "udp_echo"}
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


# -- file_read / subprocess_spawn

FILE_BYTES = 64 << 20
BLOCK = 4096
IN_FLIGHT = 64
SPAWNS_AT_ONCE = 16


def _cached_file():
    """A 64 MiB file under $TMPDIR, written and read through once (so every
    read hits the page cache); unlinked at once, the descriptor keeps it."""
    import tempfile
    fd, path = tempfile.mkstemp(prefix="aio-bench-file_read-")
    os.unlink(path)
    rng = random.Random(1)
    chunk = 1 << 20
    for off in range(0, FILE_BYTES, chunk):
        os.pwrite(fd, rng.randbytes(chunk), off)
    for off in range(0, FILE_BYTES, chunk):
        check(len(os.pread(fd, chunk, off)) == chunk, "file_read: reading the file")
    return fd


_FILE_FD = None


def file_read(loop, n):
    """asyncio has no file I/O of its own: os.pread on the default executor's
    threads (what aiofiles does), 64 reads in flight, random 4 KiB-aligned
    offsets as bench/sys_bench.cpp's."""
    global _FILE_FD
    if _FILE_FD is None:
        _FILE_FD = _cached_file()
    fd = _FILE_FD
    rng = random.Random(42)
    offs = [rng.randrange(FILE_BYTES // BLOCK) * BLOCK for _ in range(n)]
    state = {"next": 0, "bytes": 0}

    async def reader():
        lp = asyncio.get_running_loop()
        while state["next"] < n:
            off = offs[state["next"]]
            state["next"] += 1
            data = await lp.run_in_executor(None, os.pread, fd, BLOCK, off)
            state["bytes"] += len(data)  # not `+= len(await ...)`: that reads "bytes" before the await

    async def main():
        await asyncio.gather(*[reader() for _ in range(IN_FLIGHT)])

    t0 = now_ns()
    loop.run_until_complete(main())
    ns = now_ns() - t0
    check(state["bytes"] == n * BLOCK, "file_read: not every read was a full 4 KiB")
    return {"reads_per_s": n / (ns / 1e9), "ns_per_read": ns / n}


def subprocess_spawn(loop, n):
    state = {"started": 0, "ok": 0}

    async def spawner():
        while state["started"] < n:
            state["started"] += 1
            p = await asyncio.create_subprocess_exec("/bin/true")
            if await p.wait() == 0:
                state["ok"] += 1

    async def main():
        await asyncio.gather(*[spawner() for _ in range(SPAWNS_AT_ONCE)])

    t0 = now_ns()
    loop.run_until_complete(main())
    ns = now_ns() - t0
    check(state["ok"] == n, "subprocess_spawn: not every child ran and exited 0")
    return {"spawns_per_s": n / (ns / 1e9), "us_per_spawn": ns / 1e3 / n}


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
    "tcp_echo": (tcp_echo, 64, False),
    "tcp_echo/sock": (tcp_echo_sock, 64, False),
    "tcp_echo_1conn": (tcp_echo, 1, False),
    "tcp_connect_close": (tcp_connect_close, 10_000, False),
    "tcp_stream": (tcp_stream, 1, False),
    "udp_echo": (udp_echo, 64, False),
    "timeout_fast": (timeout_fast, 100_000, False),
    "as_completed": (as_completed_bench, 100_000, False),
    "barrier": (barrier_bench, 1_000, False),
    "file_read": (file_read, 10_000, False),
    "subprocess_spawn": (subprocess_spawn, 1_000, False),
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
            if args.workload != "sleep_fanout" and args.workload not in NO_WARMUP:
                fn(loop, n)  # warm-up
            figures = fn(loop, n)
        finally:
            loop.close()
    print(json.dumps({"workload": args.workload, "loop": args.loop, "version": version, "n": n,
                      "figures": figures}))


if __name__ == "__main__":
    main()
