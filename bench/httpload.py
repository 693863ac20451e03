"""A lean HTTP/1.1 load client for bench/api_load.py: one thread per connection, each sending
prepared request bytes over a plain socket (keep-alive when the server keeps the connection open,
a new connection when it answers ``Connection: close``), timing each request from the first byte
sent to the last byte read. Only what the portal's answers need is parsed: the status line,
Content-Length, chunked bodies and Connection.

``run_phase`` drives ``connections`` threads through a list of requests until it is used up or a
deadline passes, and returns the timings with the client's own CPU time, so that a report can say
whether the client was the bottleneck.
"""
import itertools
import os
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field


class ClientError(Exception):
    """The connection broke or the answer was not HTTP/1.1 as expected."""


class Connection:
    def __init__(self, host, port, timeout=60.0):
        self.address, self.timeout = (host, port), timeout
        self.sock, self.buffer, self.connects = None, b"", 0

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _connect(self):
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        self.connects += 1

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed by the server")
        self.buffer += chunk

    def _take(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def request(self, raw):
        """Send ``raw`` (a whole request) and read the answer: ``(status, body)``. A kept-alive
        connection the server has meanwhile closed is reopened once (every request the bench sends
        may be repeated: POSTs carry a client id)."""
        for attempt in (0, 1):
            reused = self.sock is not None
            if not reused:
                self._connect()
            try:
                self.sock.sendall(raw)
                return self._response()
            except (ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if not reused or attempt:
                    raise ClientError(str(exc)) from exc
            except (OSError, ValueError, IndexError) as exc:
                self.close()
                raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        raise ClientError("unreachable")

    def _response(self):
        status_line = self._line()
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        while True:
            line = self._line()
            if not line:
                break
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                close = value == b"close"
        if chunked:
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._take(size)
                self._take(2)
        elif length is not None:
            body = self._take(length)
        else:  # delimited by the end of the connection
            try:
                while True:
                    self._fill()
            except ConnectionResetError:
                pass
            body, close = self.buffer, True
        if close:
            self.close()
        return status, body


def get(path, host, port):
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()


def post_json(path, host, port, body, token=None):
    authorization = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{authorization}"
            f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body


@dataclass
class Result:
    connections: int
    seconds: float = 0.0
    times: list = field(default_factory=list)        # seconds per completed request, sorted
    statuses: dict = field(default_factory=dict)     # HTTP status -> count
    failures: list = field(default_factory=list)     # ClientError texts
    bodies: list = field(default_factory=list)       # a few bodies of error answers
    client_cpu: float = 0.0                          # CPU seconds of this process during the phase
    cpus: int = 1
    machine_busy: float = 0.0                        # share of all CPUs busy during the phase
    connects: int = 0
    sent: set = field(default_factory=set)           # indices of the requests sent

    @property
    def client_share(self):
        """The client's CPU time as a share of the machine's (all CPUs) during the phase."""
        return self.client_cpu / (self.seconds * self.cpus) if self.seconds else float("nan")

    @property
    def completed(self):
        return len(self.times)

    @property
    def errors(self):
        return len(self.failures) + sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    @property
    def server_errors(self):
        return len(self.failures) + sum(n for s, n in self.statuses.items() if s >= 500)

    @property
    def rate(self):
        return self.completed / self.seconds if self.seconds else 0.0

    def quantile(self, q):
        if not self.times:
            return float("nan")
        return self.times[min(len(self.times) - 1, int(q * len(self.times)))]

    @property
    def median(self):
        return statistics.median(self.times) if self.times else float("nan")


def machine_jiffies():
    """(busy, total) jiffies of all CPUs since boot (Linux /proc/stat; zeros elsewhere)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def run_phase(host, port, requests, connections, seconds, warmup=()):
    """Send ``requests`` (bytes each) over ``connections`` connections, each request once, until
    they are used up or ``seconds`` have passed. ``warmup`` requests are sent first, one per
    connection in turn, and not counted."""
    result = Result(connections, cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    counter, warm = itertools.count(), iter(warmup)
    lock = threading.Lock()
    state = {}

    def start_clock():  # run once, when every connection has warmed up
        state["busy0"], state["total0"] = machine_jiffies()
        state["cpu0"], state["began"] = sum(os.times()[:2]), time.perf_counter()
        state["deadline"] = state["began"] + seconds

    start_gate = threading.Barrier(connections + 1, action=start_clock)

    def worker():
        conn, times, statuses, failures, bodies, sent = Connection(host, port), [], {}, [], [], []
        try:
            for raw in _next_warmup(warm, lock):
                _send(conn, raw, [], {}, [], [])
            conn.connects = 0  # count the connections the measured requests opened
            start_gate.wait()
            while True:
                i = next(counter)
                if i >= len(requests) or time.perf_counter() > state["deadline"]:
                    break
                sent.append(i)
                _send(conn, requests[i], times, statuses, failures, bodies)
        finally:
            conn.close()
            with lock:
                result.times.extend(times)
                result.failures.extend(failures)
                result.bodies.extend(bodies[:3])
                result.connects += conn.connects
                result.sent.update(sent)
                for s, n in statuses.items():
                    result.statuses[s] = result.statuses.get(s, 0) + n

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    start_gate.wait()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - state["began"]
    result.client_cpu = sum(os.times()[:2]) - state["cpu0"]
    busy1, total1 = machine_jiffies()
    busy, total = busy1 - state["busy0"], total1 - state["total0"]
    result.machine_busy = busy / total if total > 0 else float("nan")
    result.times.sort()
    return result


def _next_warmup(warm, lock):
    while True:
        with lock:
            raw = next(warm, None)
        if raw is None:
            return
        yield raw
        return  # one warm-up request per connection


def _send(conn, raw, times, statuses, failures, bodies):
    began = time.perf_counter()
    try:
        status, body = conn.request(raw)
    except ClientError as exc:
        failures.append(str(exc))
        return
    times.append(time.perf_counter() - began)
    statuses[status] = statuses.get(status, 0) + 1
    if not 200 <= status < 300 and len(bodies) < 3:
        bodies.append((status, body[:300]))
