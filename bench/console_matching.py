"""Console matching benchmark: the harness's SerialLink.expect against pexpect on a pty flood.

Every contender runs in a subprocess of its own (so RSS and tracemalloc numbers are its own) and
reads the same kind of stream: this process writes a deterministic flood of console noise
(kernel-log-like lines, ANSI colour, mixed CRLF/LF/CR, a little UTF-8) into the master side of a
fresh raw pty, ending with the prompt ``simiot> ``; the contender opens the slave path and waits
for the prompt. Each contender is measured twice: a timed pass (wall time, max-RSS growth) and a
pass under tracemalloc (peak of Python allocations), because tracemalloc slows every allocation
and would distort the timing.

Usage:  .venv/bin/python bench/console_matching.py [--mb 10] [--flat 2,5,10] [--timeout 120]
        .venv/bin/python bench/console_matching.py --profile harness   # cProfile of one contender
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import subprocess
import sys
import threading
import time
import tty
from dataclasses import asdict, dataclass
from pathlib import Path

PROMPT = "simiot> "
END_MARKER = "bench: end of flood 7f3a"  # the last line before the prompt: proves `before` is right
MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent

# name -> (label, pexpect method, searchwindowsize, extra fdspawn arguments); "harness" and "raw"
# are handled apart. The last one is pexpect as a user who read its source would tune it: no
# 0.1 ms sleep after every read (delayafterread) and reads as large as the harness's.
PEXPECT_VARIANTS: dict[str, tuple[str, str, int | None, dict[str, object]]] = {
    "pexpect-exact": ("pexpect expect_exact, sws=None", "expect_exact", None, {}),
    "pexpect-exact-2000": ("pexpect expect_exact, sws=2000", "expect_exact", 2000, {}),
    "pexpect-re": ("pexpect expect (regex), sws=None", "expect", None, {}),
    "pexpect-re-2000": ("pexpect expect (regex), sws=2000", "expect", 2000, {}),
    "pexpect-exact-tuned": ("pexpect exact,2000,maxread 64k,no delay", "expect_exact", 2000,
                            {"maxread": 65536, "delayafterread": None}),
}
# Diagnostics: where the harness's time goes, without profiler overhead.
DIAGNOSTICS = {
    "harness-core": "diag: harness StreamCleaner+Expecter only",
    "harness-no-transcript": "diag: harness SerialLink, no transcript",
    "harness-secret": "diag: harness SerialLink, 1 secret set",
}
LABELS = {"raw": "raw os.read floor (no matching)", "harness": "harness SerialLink.expect",
          **{k: v[0] for k, v in PEXPECT_VARIANTS.items()}, **DIAGNOSTICS}


# -- the flood ---------------------------------------------------------------------------------------
_DEVICES = ["usb 1-1", "eth0", "wlan0", "mmc0", "EXT4-fs (mmcblk0p2)", "audit", "thermal", "i2c i2c-1",
            "spi0.0", "brcmfmac", "watchdog", "rtc-pcf8563 1-0051", "systemd[1]", "dropbear[412]"]
_MESSAGES = [
    "new high-speed USB device number {n} using ehci-platform",
    "link up, 100Mbps, full-duplex, lpa 0x{h:04X}",
    "associated with AP 'lab-ap-{n}', signal -{n2} dBm",
    "mounted filesystem with ordered data mode. Quota mode: none.",
    "type=1400 audit({n}.{n2}:{n3}): apparmor=\"DENIED\" operation=\"open\" profile=\"sensor\"",
    "cpu temperature {n2}.{n3}\u00b0C, fan duty {n}%",
    "timeout waiting for bus ready (retry {n})",
    "firmware version 7.45.{n}, rx drop {n2}, tx err {n3}",
    "Starting periodic command scheduler...",
    "Password auth succeeded for 'admin' from 127.0.0.{n2}:{n}",
]
_ANSI_OK = "[  \x1b[0;32mOK\x1b[0m  ] Started {what}."
_ANSI_FAIL = "[\x1b[0;1;31mFAILED\x1b[0m] Failed to start {what}."
_UNITS = ["Network Manager", "MQTT bridge", "OTA updater", "Telemetry agent", "Time sync"]


def make_flood(mb: float, seed: int = 1) -> bytes:
    """About ``mb`` MiB of console noise, then the end marker line and the prompt (no newline)."""
    rng = random.Random(seed)
    target = int(mb * MIB)
    parts: list[str] = []
    size = 0
    t = 0.0
    while size < target:
        t += rng.random() * 0.01
        kind = rng.random()
        if kind < 0.70:
            msg = rng.choice(_MESSAGES).format(n=rng.randrange(1, 999), n2=rng.randrange(10, 99),
                                               n3=rng.randrange(100, 999), h=rng.randrange(65536))
            line = f"[{t:12.6f}] {rng.choice(_DEVICES)}: {msg}"
        elif kind < 0.80:
            line = (_ANSI_OK if rng.random() < 0.8 else _ANSI_FAIL).format(what=rng.choice(_UNITS))
        elif kind < 0.88:  # a progress bar redrawn in place with bare CRs
            line = "".join(f"\rflash write: {p:3d}%" for p in range(0, 101, rng.choice([5, 10, 20])))
        elif kind < 0.95:
            line = f"{rng.randrange(1 << 32):08x}: " + " ".join(f"{rng.randrange(256):02x}" for _ in range(32))
        else:
            line = f"\x1b[33m<4>\x1b[0m[{t:12.6f}] WARNING: CPU: 0 PID: {rng.randrange(9999)} at kernel/irq"
        ending = rng.choices(["\r\n", "\n", "\r"], weights=[6, 3, 1])[0]
        parts.append(line + ending)
        size += len(line) + len(ending)
    text = "".join(parts)
    assert PROMPT not in text
    return (text + f"[{t:12.6f}] {END_MARKER}\r\n" + PROMPT).encode("utf-8")


# -- the contender side (runs in a subprocess) -------------------------------------------------------
def _maxrss_kib() -> int:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0).

    Needed because ru_maxrss survives fork+exec: the child starts with the orchestrator's
    high-water mark (which holds the whole flood), so ru_maxrss growth hides anything smaller.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _child(name: str, slave: str, timeout: float, nbytes: int, trace: bool, profile: bool) -> dict:
    import gc
    import tempfile
    import tracemalloc

    tmp = tempfile.mkdtemp(prefix="bench-console-")
    try:
        if name in ("harness", "harness-no-transcript", "harness-secret"):
            sys.path.insert(0, str(ROOT))
            from harness.links.serial import ExpectTimeout, SerialLink
            if name == "harness-secret":  # as in a real run, where the profile's secrets are registered
                from harness.redact import REDACTOR
                REDACTOR.add("hunter2-bench-secret", "console_password")
            link = SerialLink("console", slave, timeout=timeout, transcript_dir=tmp).open()
            if name == "harness-no-transcript":
                link.transcript.received = lambda text: None  # diagnostic only: isolates its cost

            def wait() -> tuple[bool, str]:
                try:
                    m = link.expect(PROMPT, timeout=timeout)
                except ExpectTimeout:
                    return False, ""
                return m.text == PROMPT, m.before

            def close() -> None:
                link.close()
                link.transcript.close()  # SerialLink.close() leaves the transcript file open
        elif name == "harness-core":
            import re
            sys.path.insert(0, str(ROOT))
            from harness.links.expect import Expecter, StreamCleaner
            fd = os.open(slave, os.O_RDONLY | os.O_NOCTTY)
            cleaner, expecter = StreamCleaner("utf-8"), Expecter(max_buffer=65536, max_match=4096)
            patterns = {"ok": re.compile(PROMPT, re.MULTILINE)}  # as SerialLink.compile does

            def wait() -> tuple[bool, str]:
                end = time.monotonic() + timeout
                while (m := expecter.search(patterns)) is None:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([fd], [], [], left)[0]:
                        return False, ""
                    text = cleaner.feed(os.read(fd, 65536))
                    if text:
                        expecter.feed(text)
                return m.text == PROMPT, m.before

            def close() -> None:
                os.close(fd)
        elif name == "raw":
            fd = os.open(slave, os.O_RDONLY | os.O_NOCTTY)

            def wait() -> tuple[bool, str]:
                got, end, tail = 0, time.monotonic() + timeout, b""
                while got < nbytes:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([fd], [], [], left)[0]:
                        return False, ""
                    data = os.read(fd, 65536)
                    got += len(data)
                    tail = (tail + data)[-4096:]
                return tail.endswith(PROMPT.encode()), tail.decode("utf-8", "replace")

            def close() -> None:
                os.close(fd)
        else:
            import pexpect
            import pexpect.fdpexpect
            _, method, sws, extra = PEXPECT_VARIANTS[name]
            fd = os.open(slave, os.O_RDWR | os.O_NOCTTY)
            child = pexpect.fdpexpect.fdspawn(fd, timeout=timeout, encoding="utf-8", codec_errors="replace",
                                              maxread=extra.get("maxread", 2000))
            child.delayafterread = extra.get("delayafterread", child.delayafterread)

            def wait() -> tuple[bool, str]:
                try:
                    getattr(child, method)(PROMPT, timeout=timeout, searchwindowsize=sws)
                except (pexpect.TIMEOUT, pexpect.EOF):
                    return False, ""
                return child.after == PROMPT, child.before

            def close() -> None:
                os.close(fd)

        gc.collect()
        hwm_ok = _reset_peak_rss()
        rss0, maxrss0 = _status_kib("VmRSS"), _maxrss_kib()
        if trace:
            tracemalloc.start()
        profiler = None
        if profile:
            import cProfile
            profiler = cProfile.Profile()
        print("READY", flush=True)
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        found, before = wait()
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        hwm1, maxrss1 = _status_kib("VmHWM"), _maxrss_kib()
        close()
        if profiler:
            import pstats
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
        return {"found": found and END_MARKER in before[-200:], "wall": wall,
                "rss_growth_kib": hwm1 - rss0 if hwm_ok and hwm1 is not None and rss0 is not None else None,
                "maxrss_growth_kib": maxrss1 - maxrss0, "rss_base_kib": rss0, "trace_peak": peak}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- the orchestrating side --------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    mb: float
    found: bool
    wall: float | None  # seconds, timed pass
    rss_growth_kib: int | None  # timed pass: VmHWM after - VmRSS before (peak reset before)
    maxrss_growth_kib: int | None  # timed pass: ru_maxrss after - before (see _reset_peak_rss)
    trace_peak: int | None  # bytes, traced pass
    note: str = ""

    @property
    def mbps(self) -> float | None:
        return self.mb / self.wall if self.wall else None


@dataclass
class Flood:
    path: Path
    nbytes: int
    stats: str


def flood_file(mb: float, folder: Path) -> Flood:
    """Generate the flood in a one-shot subprocess into ``folder``.

    The orchestrator never holds the flood in memory: ru_maxrss survives fork+exec, so every
    contender would otherwise inherit a high-water mark that hides its own growth.
    """
    path = folder / f"flood-{mb:g}.bin"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--make-flood", str(path), "--mb", str(mb)],
                       check=True, timeout=120, cwd=ROOT)
    with open(path, "rb") as fh:
        lf = cr = esc = 0
        while chunk := fh.read(MIB):
            lf, cr, esc = lf + chunk.count(b"\n"), cr + chunk.count(b"\r"), esc + chunk.count(b"\x1b")
    nbytes = path.stat().st_size
    return Flood(path, nbytes, f"{nbytes / MIB:.2f} MiB, {lf} LF, {cr} CR, {esc} ESC")


class _Writer(threading.Thread):
    """Pushes the flood file into the pty master, never blocking longer than the deadline."""

    def __init__(self, master: int, flood: Flood, deadline: float) -> None:
        super().__init__(daemon=True)
        self.master, self.flood, self.deadline = master, flood, deadline
        self.stop = threading.Event()
        self.written = 0

    def run(self) -> None:
        os.set_blocking(self.master, False)
        with open(self.flood.path, "rb") as fh:
            while (chunk := fh.read(65536)) and not self.stop.is_set():
                view = memoryview(chunk)
                while view and not self.stop.is_set():
                    left = self.deadline - time.monotonic()
                    if left <= 0:
                        return
                    if not select.select([], [self.master], [], min(left, 0.5))[1]:
                        continue
                    try:
                        n = os.write(self.master, view)
                    except BlockingIOError:
                        continue
                    except OSError:  # the pty went away
                        return
                    view = view[n:]
                    self.written += n


def _read_line(stream: int, deadline: float) -> tuple[str, bytes]:
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            return "", buf
        chunk = os.read(stream, 4096)
        if not chunk:
            return "", buf
        buf += chunk
    line, rest = buf.split(b"\n", 1)
    return line.decode(), rest


def run_once(name: str, flood: Flood, timeout: float, *, trace: bool, profile: bool = False) -> dict:
    """One pass of one contender in its own subprocess on a fresh pty."""
    master, slave = os.openpty()
    tty.setraw(slave)
    slave_path = os.ttyname(slave)
    cmd = [sys.executable, __file__, "--child", name, "--slave", slave_path, "--timeout", str(timeout),
           "--nbytes", str(flood.nbytes)] + (["--trace"] if trace else []) + (["--profile", name] if profile else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None if profile else subprocess.PIPE,
                            cwd=ROOT)
    writer = None
    try:
        line, rest = _read_line(proc.stdout.fileno(), time.monotonic() + 60)
        if line != "READY":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            return {"error": f"child not ready: {line!r} {(err or b'').decode()[-500:]}"}
        writer = _Writer(master, flood, time.monotonic() + timeout + 10)
        writer.start()
        try:
            out, err = proc.communicate(timeout=timeout + 20)
        except subprocess.TimeoutExpired:
            proc.kill()  # only ever our own child, by its Popen handle (PID)
            proc.communicate(timeout=10)
            return {"error": f"killed after {timeout + 20:g} s"}
        out = (rest + out).decode()
        for result_line in out.splitlines():
            if result_line.startswith("RESULT "):
                return json.loads(result_line[7:])
        return {"error": f"no result, rc={proc.returncode}: {(err or b'').decode()[-500:]}"}
    finally:
        if writer:
            writer.stop.set()
            writer.join(timeout=5)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(slave)
        os.close(master)


def measure(name: str, mb: float, timeout: float, flood: Flood) -> Result:
    timed = run_once(name, flood, timeout, trace=False)
    traced = run_once(name, flood, timeout, trace=True) if "error" not in timed else {}
    notes = []
    for label, run in (("timed", timed), ("traced", traced)):
        if "error" in run:
            notes.append(f"{label} pass: {run['error']}")
        elif run and not run.get("found"):
            notes.append(f"{label} pass: prompt not found within {timeout:g} s")
    found = bool(timed.get("found"))  # the row's wall time is the timed pass's
    return Result(name, mb, found, timed.get("wall"), timed.get("rss_growth_kib"),
                  timed.get("maxrss_growth_kib"), traced.get("trace_peak"), "; ".join(notes))


# -- output ------------------------------------------------------------------------------------------
def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.3f}"


def _mib(kib: int | None) -> float | None:
    return None if kib is None else kib / 1024


def print_table(results: list[Result]) -> None:
    head = (f"{'contender':<40} {'MiB':>4} {'found':>5} {'wall s':>7} {'MiB/s':>7} {'peakRSS+':>9} "
            f"{'maxrss+':>8} {'tm peak':>8}")
    print(head)
    print(f"{'':<40} {'':>4} {'':>5} {'':>7} {'':>7} {'MiB':>9} {'MiB':>8} {'MiB':>8}")
    print("-" * len(head))
    for r in results:
        peak = None if r.trace_peak is None else r.trace_peak / MIB
        print(f"{LABELS[r.name]:<40} {r.mb:>4g} {'yes' if r.found else 'NO':>5} {_f(r.wall, '7.2f')} "
              f"{_f(r.mbps, '7.2f')} {_f(_mib(r.rss_growth_kib), '9.2f')} {_f(_mib(r.maxrss_growth_kib), '8.2f')} "
              f"{_f(peak, '8.3f')}" + (f"  [{r.note}]" if r.note else ""), flush=True)


def print_ratios(results: list[Result]) -> None:
    by = {r.name: r for r in results}
    h = by.get("harness")
    if h is None:
        return
    print("\nharness / pexpect (below 1 = harness better)")
    print(f"{'versus':<40} {'time':>7} {'peakRSS+':>9} {'tm peak':>8}")
    for name in PEXPECT_VARIANTS:
        p = by.get(name)
        if p is None:
            continue
        print(f"{LABELS[name]:<40} {_ratio(h.wall, p.wall):>7} {_ratio(h.rss_growth_kib, p.rss_growth_kib):>9} "
              f"{_ratio(h.trace_peak, p.trace_peak):>8}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=10.0, help="flood size in MiB for the side-by-side run")
    ap.add_argument("--flat", default="2,5,10", help="flood sizes (MiB) for the memory-flatness check; '' skips")
    ap.add_argument("--timeout", type=float, default=120.0, help="expect timeout of each contender (s)")
    ap.add_argument("--only", default="", help="comma-separated contenders (default: all)")
    ap.add_argument("--profile", metavar="CONTENDER", help="run one contender once under cProfile and exit")
    ap.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--slave", help=argparse.SUPPRESS)
    ap.add_argument("--nbytes", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--make-flood", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.make_flood:
        Path(args.make_flood).write_bytes(make_flood(args.mb))
        return 0
    if args.child:
        result = _child(args.child, args.slave, args.timeout, args.nbytes, args.trace, bool(args.profile))
        print("RESULT " + json.dumps(result), flush=True)
        return 0

    import tempfile
    folder = Path(tempfile.mkdtemp(prefix="bench-console-flood-"))
    try:
        if args.profile:
            print(run_once(args.profile, flood_file(args.mb, folder), args.timeout, trace=False, profile=True))
            return 0
        return _compare(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _compare(args: argparse.Namespace, folder: Path) -> int:
    names = [n for n in args.only.split(",") if n] or ["raw", "harness", *PEXPECT_VARIANTS, *DIAGNOSTICS]
    flood = flood_file(args.mb, folder)
    print(f"flood: {flood.stats}; prompt {PROMPT!r}; expect timeout {args.timeout:g} s; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}", flush=True)
    print("peakRSS+ = VmHWM after - VmRSS before (HWM reset first); maxrss+ = ru_maxrss after - before; "
          "tm peak = tracemalloc peak (separate pass)\n", flush=True)
    results = []
    for name in names:
        results.append(measure(name, args.mb, args.timeout, flood))
        print(f"  measured {LABELS[name]}", file=sys.stderr, flush=True)
    print_table(results)
    print_ratios(results)

    flat: list[Result] = []
    sizes = [float(s) for s in args.flat.split(",") if s]
    if sizes:
        print("\nmemory flatness (the harness must not grow with the flood; pexpect exact/2000 for contrast)",
              flush=True)
        for contender in ("harness", "pexpect-exact-2000"):
            for mb in sizes:
                reuse = [r for r in results if r.name == contender and r.mb == mb]
                flat.append(reuse[0] if reuse else measure(contender, mb, args.timeout, flood_file(mb, folder)))
        print_table(flat)
        h = [r.trace_peak for r in flat if r.name == "harness" and r.trace_peak is not None]
        if len(h) == len(sizes) and len(h) > 1:
            print(f"harness tracemalloc peak, largest / smallest flood: {max(h) / min(h):.2f}x "
                  f"for a {max(sizes) / min(sizes):g}x larger flood", flush=True)
    print(f"\n(orchestrator ru_maxrss {_maxrss_kib() / 1024:.1f} MiB: the floor every child inherits)", flush=True)

    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results + flat], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
