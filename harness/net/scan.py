"""TCP connect scan of a declared address: which ports accept a connection.

A connect scan (the kernel's own three-way handshake, like ``nmap -sT``) needs no raw sockets and
no privileges, and its answer is exactly what a client of the device would see. It runs as a
bounded pool of asyncio workers pulling ports from one iterator, so at most ``concurrency``
sockets (file descriptors) exist at any time whatever the number of ports, and no task is created
per port.

Per port the outcome is one of:

- ``open``: the handshake completed (and it was not a self-connect, below);
- ``closed``: the peer answered with a reset (ConnectionRefusedError);
- ``filtered``: no answer within ``timeout`` (a firewall dropping SYNs, or a saturated device);
  never counted as closed;
- ``errors``: anything else (no route, address not available, ...): the port was not judged.

Self-connects. On Linux, connecting to a port P of a local address with nothing listening on P
can pick P itself as the ephemeral source port; the SYN then meets its own socket, TCP's
simultaneous open completes, and ``connect`` succeeds with local (addr, port) == peer (addr, port)
(reproduced in tests by narrowing ``net.ipv4.ip_local_port_range`` to one port). Nothing listens
there: the kernel never autobinds a source port that a listener holds. Such a connection is
dropped (closed with a reset, so it leaves no TIME_WAIT), listed in ``self_connects``, and the
port is probed again up to ``_SELF_CONNECT_RETRIES`` times; if every try self-connects, the port
is counted closed, for the reason above.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import ipaddress
import os
import resource
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.scope import OutOfScope, Scope

ALL_PORTS = range(1, 65536)
_SELF_CONNECT_RETRIES = 2
_YIELD_EVERY = 64
_FD_RESERVE = 64  # descriptors kept free for the rest of the process (logs, transcripts, the loop)

OPEN, CLOSED, FILTERED, ERROR, SELF, CUT = "open", "closed", "filtered", "error", "self", "cut"


@dataclass
class TcpScanResult:
    address: str
    open: list[int] = field(default_factory=list)
    closed: int = 0
    filtered: list[int] = field(default_factory=list)  # no answer within the timeout (open|filtered)
    errors: dict[int, str] = field(default_factory=dict)  # not judged: errno name and text
    self_connects: list[int] = field(default_factory=list)  # dropped; the port was probed again
    duration_s: float = 0.0
    complete: bool = False  # every requested port judged (open/closed/filtered) before the deadline
    requested: int = 0
    unprobed: int = 0  # ports the deadline left unjudged

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = {str(k): v for k, v in self.errors.items()}
        return out


@dataclass(frozen=True)
class _Plan:
    address: str
    family: socket.AddressFamily
    ports: list[int]


def _plan(address: str, ports: Iterable[int], scope: Scope) -> _Plan:
    """Everything the scope must allow, checked before the first socket exists."""
    resolved, rule = scope.port_rule(address, "tcp")
    port_list = list(dict.fromkeys(ports))  # each port once, in the caller's order
    if not rule.unrestricted:
        refused = [p for p in port_list if p not in rule]
        if refused:
            shown = ", ".join(map(str, refused[:5])) + (" ..." if len(refused) > 5 else "")
            raise OutOfScope(f"{len(refused)} of {len(port_list)} ports at {address} are outside the declared "
                             f"ports ({rule.describe()}): {shown}; refused before sending anything")
    bad = [p for p in port_list if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 65535]
    if bad:
        raise ValueError(f"not TCP ports: {bad[:5]}")
    ip = ipaddress.ip_address(resolved)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return _Plan(resolved, family, port_list)


def _fd_budget(concurrency: int) -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max(1, concurrency)
    return max(1, min(concurrency, soft - _FD_RESERVE))


def _errno_text(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "E?")
    return f"{name}: {exc.strerror or exc}"


# Linux: non-blocking from birth, one syscall less per port than socket() + setblocking().
_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0)
_STREAM_NONBLOCK = socket.SOCK_STREAM | _NONBLOCK
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, no TIME_WAIT


def _start_connect(loop: asyncio.AbstractEventLoop, sock: socket.socket, target: tuple[str, int],
                   timeout: float) -> tuple[asyncio.Future[int | None], Callable[[], None] | None]:
    """Begin a non-blocking connect. The future gives the errno (0: connected) or None (timeout);
    the callable (None when the outcome was immediate) takes the socket off the selector and
    cancels its timer, and must run before the socket is closed (its fd number is reused).

    Not ``loop.sock_connect``: it always goes through the selector and an address-resolving
    coroutine. Here the outcome is read right after connect() returns, because on loopback and
    on a quiet LAN the kernel has often already handled the SYN and the RST inside that call
    (measured: a full 65,535-port loopback scan took 8.5 s with sock_connect + asyncio.timeout,
    under 2 s this way). Only a connect still in progress is put on the selector, with a timer.
    """
    fut: asyncio.Future[int | None] = loop.create_future()
    err = sock.connect_ex(target)
    if err == errno.EINPROGRESS:
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            try:
                sock.getpeername()  # succeeds only once the handshake is complete
            except OSError:
                err = errno.EINPROGRESS
    if err != errno.EINPROGRESS:
        fut.set_result(err)
        return fut, None
    fd = sock.fileno()

    def release() -> None:
        loop.remove_writer(fd)
        timer.cancel()

    def finish(timed_out: bool = False) -> None:
        release()
        if not fut.done():
            fut.set_result(None if timed_out else sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))

    timer = loop.call_later(timeout, finish, True)
    loop.add_writer(fd, finish)
    return fut, release


async def _connect_once(loop: asyncio.AbstractEventLoop, plan: _Plan, port: int, timeout: float,
                        cut_by_deadline: bool) -> tuple[str, str | None]:
    try:
        sock = socket.socket(plan.family, _STREAM_NONBLOCK)
    except OSError as exc:  # e.g. EMFILE: other parts of the process hold descriptors too
        return ERROR, _errno_text(exc)
    try:
        if not _STREAM_NONBLOCK & _NONBLOCK:
            sock.setblocking(False)
        fut, release = _start_connect(loop, sock, (plan.address, port), timeout)
        try:
            err = await fut
        finally:
            if release is not None:
                release()  # idempotent; matters when the worker was cancelled mid-connect
        if err is None:
            # A timeout shortened by the overall deadline says nothing about the port.
            return (CUT, None) if cut_by_deadline else (FILTERED, None)
        if err == errno.ECONNREFUSED:
            return CLOSED, None
        if err != 0:
            return ERROR, f"{errno.errorcode.get(err, 'E?')}: {os.strerror(err)}"
        if sock.getsockname()[:2] == sock.getpeername()[:2]:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            return SELF, None
        return OPEN, None
    finally:
        sock.close()


async def _scan(plan: _Plan, concurrency: int, timeout: float, deadline: float | None) -> TcpScanResult:
    loop = asyncio.get_running_loop()
    result = TcpScanResult(plan.address, requested=len(plan.ports))
    t0 = time.monotonic()
    end = loop.time() + deadline if deadline is not None else None
    ports = iter(plan.ports)  # shared by all workers: each next() hands out one port
    self_connects: set[int] = set()

    async def probe(port: int) -> str:
        for _ in range(1 + _SELF_CONNECT_RETRIES):
            wait, cut = timeout, False
            if end is not None:
                left = end - loop.time()
                if left <= 0:
                    return CUT
                if left < timeout:
                    wait, cut = left, True
            state, detail = await _connect_once(loop, plan, port, wait, cut)
            if state == SELF:
                self_connects.add(port)
                continue
            if state == ERROR:
                result.errors[port] = detail or "error"
            return state
        return CLOSED  # only self-connects: nothing can be listening there (module docstring)

    async def worker() -> None:
        for n, port in enumerate(ports, 1):
            state = await probe(port)
            if state == OPEN:
                result.open.append(port)
            elif state == CLOSED:
                result.closed += 1
            elif state == FILTERED:
                result.filtered.append(port)
            elif state == CUT:
                return
            if n % _YIELD_EVERY == 0:
                # An answer known at connect() time means the await above never suspended:
                # yield to the loop now and then (a yield, not a wait) so other work runs.
                await asyncio.sleep(0)

    workers = min(_fd_budget(concurrency), max(1, len(plan.ports)))
    await asyncio.gather(*(worker() for _ in range(workers)))
    result.open.sort()
    result.filtered.sort()
    result.self_connects = sorted(self_connects)
    judged = len(result.open) + result.closed + len(result.filtered) + len(result.errors)
    result.unprobed = result.requested - judged
    result.complete = result.unprobed == 0 and not result.errors
    result.duration_s = time.monotonic() - t0
    return result


async def scan_tcp_async(address: str, ports: Iterable[int] = ALL_PORTS, *, scope: Scope,
                         concurrency: int = 512, timeout: float = 1.0,
                         deadline: float | None = None) -> TcpScanResult:
    """Connect-scan ``ports`` of ``address``. Raises OutOfScope before any socket is created when
    the scope does not declare the address (or one of the ports). ``deadline`` is a time budget
    in seconds for the whole scan; when it runs out the result has ``complete=False``."""
    if concurrency < 1 or timeout <= 0:
        raise ValueError("concurrency must be >= 1 and timeout > 0")
    plan = _plan(address, ports, scope)
    return await _scan(plan, concurrency, timeout, deadline)


def scan_tcp(address: str, ports: Iterable[int] = ALL_PORTS, *, scope: Scope, concurrency: int = 512,
             timeout: float = 1.0, deadline: float | None = None) -> TcpScanResult:
    """Blocking form of ``scan_tcp_async``. The scope is checked here, before an event loop (which
    owns a socket pair of its own) is created."""
    if concurrency < 1 or timeout <= 0:
        raise ValueError("concurrency must be >= 1 and timeout > 0")
    plan = _plan(address, ports, scope)
    coro = _scan(plan, concurrency, timeout, deadline)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from code that already runs a loop in this thread: give the scan a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tcp-scan") as pool:
        return pool.submit(asyncio.run, coro).result()
