"""Print ``conformance.html`` to PDF (and check it renders) in headless Chromium.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe`` (file descriptors 3
and 4, JSON messages ended by NUL): no websocket, no open port, no Python dependency. The same
session gives what a plain ``--print-to-pdf`` cannot: a header and footer with the run id and page
numbers, the console errors of the page, and a screenshot for the browser test.

Every wait is bounded by one deadline; on expiry the browser's process group is killed and
``BrowserError`` raised. A missing browser is ``ChromiumMissing`` (the CLI exits 2 naming the
Debian package).
"""

from __future__ import annotations

import base64
import html
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report._text import clean

PDF_NAME = "conformance.pdf"
DEBIAN_PACKAGE = "chromium"
BROWSER_ENV = "HARNESS_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
DEFAULT_TIMEOUT = 120.0
# Flags that work as root in a container: no sandbox (root), no GPU, and nothing that phones home.
BASE_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--no-default-browser-check", "--disable-dev-shm-usage",
)
A4_INCHES = (8.27, 11.69)
# The report is one self-contained file: anything it tries to fetch is blocked (and shows up as a
# console error in the browser test).
BLOCKED_URLS = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]


class ChromiumMissing(RuntimeError):
    """No Chromium binary: the report stays HTML only."""

    def __init__(self) -> None:
        super().__init__(f"headless Chromium not found (install the Debian package {DEBIAN_PACKAGE!r}: "
                         f"apt-get install -y {DEBIAN_PACKAGE}, or set {BROWSER_ENV} to the browser binary)")


class BrowserError(RuntimeError):
    """Chromium started but did not do what was asked within the time allowed."""


@dataclass
class PageRender:
    """What one load of the page produced."""

    console_errors: list[str] = field(default_factory=list)
    pdf: bytes | None = None
    png: bytes | None = None


def find_chromium(explicit: str | None = None) -> str | None:
    """The browser binary: ``explicit``, then $HARNESS_CHROMIUM, then the usual names on PATH."""
    for name in (explicit, os.environ.get(BROWSER_ENV), *CANDIDATES):
        if name:
            found = shutil.which(name)
            if found:
                return found
    return None


def footer_template(run_id: str, edition: str = "") -> str:
    """Chromium fills the ``pageNumber``/``totalPages`` spans; the run id is device-free text but escaped
    all the same."""
    left = f"Run {html.escape(clean(run_id))}" if run_id else "Run id unknown"
    if edition:
        left += f" &middot; EN 303 645 {html.escape(clean(edition))}"
    return ('<div style="font-size:8px;width:100%;margin:0 12mm;display:flex;justify-content:space-between;'
            f'font-family:sans-serif;color:#555"><span>{left}</span>'
            '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>')


def header_template(title: str) -> str:
    return ('<div style="font-size:8px;width:100%;margin:0 12mm;font-family:sans-serif;color:#555">'
            f"{html.escape(clean(title))}</div>")


class _Pipe:
    """The DevTools protocol over Chromium's pipe: numbered commands, events kept per session."""

    def __init__(self, proc: subprocess.Popen[bytes], to_browser: int, from_browser: int, deadline: float) -> None:
        self.proc = proc
        self.to_browser = to_browser
        self.from_browser = from_browser
        self.deadline = deadline
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.sel = selectors.DefaultSelector()
        self.sel.register(from_browser, selectors.EVENT_READ)
        self.write_sel = selectors.DefaultSelector()
        self.write_sel.register(to_browser, selectors.EVENT_WRITE)
        os.set_blocking(to_browser, False)  # a browser that stops reading must not hang us

    def close(self) -> None:
        self.sel.close()
        self.write_sel.close()

    def _remaining(self, what: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BrowserError(f"Chromium did not answer in time ({what})")
        return left

    def _read_message(self, what: str) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            if not self.sel.select(timeout=self._remaining(what)):
                continue  # the next _remaining raises once the deadline passed
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the DevTools pipe ({what}; exit code {self.proc.poll()})")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(raw.decode("utf-8", errors="replace"))

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode("utf-8") + b"\0"
        while data:
            if not self.write_sel.select(timeout=self._remaining(method)):
                continue
            try:
                data = data[os.write(self.to_browser, data):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise BrowserError(f"Chromium closed the DevTools pipe ({method}; exit code {self.proc.poll()})") from None
        while True:
            reply = self._read_message(method)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                return reply.get("result") or {}
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method and ev.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            ev = self._read_message(f"waiting for {method}")
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
            if "method" in ev:
                self.events.append(ev)


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions, error log entries and failed loads, in page order."""
    out: list[str] = []
    urls: dict[str, str] = {}
    for ev in events:
        method, params = ev.get("method"), ev.get("params") or {}
        if method == "Network.requestWillBeSent":
            urls[str(params.get("requestId"))] = str((params.get("request") or {}).get("url", ""))
        elif method == "Network.loadingFailed":
            why = params.get("blockedReason") or params.get("errorText") or "failed"
            out.append(f"load failed ({why}): {urls.get(str(params.get('requestId')), '?')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args") or []
            out.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails") or {}
            out.append("exception: " + str((details.get("exception") or {}).get("description")
                                           or details.get("text", "")))
        elif method == "Log.entryAdded":
            entry = params.get("entry") or {}
            if entry.get("level") == "error":
                out.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip())
    return out


def render_page(html_path: str | Path, *, pdf: bool = True, screenshot: bool = False, run_id: str = "",
                title: str = "", edition: str = "", browser: str | None = None,
                timeout: float = DEFAULT_TIMEOUT, window: tuple[int, int] = (1280, 1000),
                media: str | None = None, scripts: bool = True) -> PageRender:
    """Load ``html_path`` in headless Chromium; print it to PDF and/or take a screenshot (of the
    ``media`` CSS type when given, e.g. "print" to see the print stylesheet). ``scripts=False`` runs
    no script at all (printing: the page has none, so one that slipped through must not run)."""
    binary = find_chromium(browser)
    if binary is None:
        raise ChromiumMissing()
    url = Path(html_path).resolve().as_uri()
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile_dir:
        cmd_r, cmd_w = os.pipe()  # we write commands, the browser reads them on fd 3
        res_r, res_w = os.pipe()  # the browser writes replies on fd 4

        def child_fds() -> None:
            # Move the pipe ends to the numbers Chromium expects, whatever numbers they got here.
            a, b = os.dup(cmd_r), os.dup(res_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        argv = [binary, *BASE_FLAGS, f"--user-data-dir={profile_dir}", "--remote-debugging-pipe",
                f"--window-size={window[0]},{window[1]}", "about:blank"]
        stderr = tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                    preexec_fn=child_fds, close_fds=False, start_new_session=True)
        except (OSError, subprocess.SubprocessError) as exc:
            for fd in (cmd_r, cmd_w, res_r, res_w):
                os.close(fd)
            stderr.close()
            raise BrowserError(f"could not start {binary}: {exc}") from None
        os.close(cmd_r)
        os.close(res_w)
        pipe = _Pipe(proc, cmd_w, res_r, deadline)
        closed_politely = False
        try:
            rendered = _drive(pipe, url, pdf=pdf, screenshot=screenshot, run_id=run_id, title=title, edition=edition,
                              media=media, scripts=scripts)
            closed_politely = True
            return rendered
        except (BrowserError, KeyError, ValueError) as exc:  # ValueError: a garbled message or base64
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode("utf-8", errors="replace").strip()
            what = str(exc) if isinstance(exc, BrowserError) else \
                f"unexpected DevTools answer ({type(exc).__name__}: {exc})"
            raise BrowserError(what + (f"; Chromium said: {tail}" if tail else "")) from None
        finally:
            pipe.close()
            for fd in (cmd_w, res_r):
                os.close(fd)
            _stop(proc, grace=5.0 if closed_politely else 0.0)
            stderr.close()


def _drive(pipe: _Pipe, url: str, *, pdf: bool, screenshot: bool, run_id: str, title: str,
           edition: str, media: str | None = None, scripts: bool = True) -> PageRender:
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send("Network.setBlockedURLs", {"urls": BLOCKED_URLS}, session=session)
    if not scripts:
        pipe.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
    if media:
        pipe.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
    nav = pipe.send("Page.navigate", {"url": url}, session=session)
    if nav.get("errorText"):
        raise BrowserError(f"could not open {url}: {nav['errorText']}")
    pipe.wait_event("Page.loadEventFired", session)
    out = PageRender()
    if screenshot:
        shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
        out.png = base64.b64decode(shot["data"])
    if pdf:
        printed = pipe.send("Page.printToPDF", {
            "paperWidth": A4_INCHES[0], "paperHeight": A4_INCHES[1], "marginTop": 0.6, "marginBottom": 0.6,
            "marginLeft": 0.5, "marginRight": 0.5, "printBackground": True, "displayHeaderFooter": True,
            "headerTemplate": header_template(title), "footerTemplate": footer_template(run_id, edition),
        }, session=session)
        out.pdf = base64.b64decode(printed["data"])
    out.console_errors = _console_errors([e for e in pipe.events if e.get("sessionId") == session])
    try:
        pipe.send("Browser.close")
    except BrowserError:
        pass  # it is killed below anyway
    return out


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """End the browser and its child processes (its own process group, started above): after
    ``grace`` seconds for a browser asked to close, at once for one that failed."""
    if grace > 0:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def write_pdf(html_path: str | Path, pdf_path: str | Path, *, run_id: str = "", title: str = "",
              edition: str = "", browser: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Print the report to ``pdf_path`` (written atomically, mode 0600 like the rest of the run)."""
    rendered = render_page(html_path, pdf=True, run_id=run_id, title=title, edition=edition,
                           browser=browser, timeout=timeout, scripts=False)
    if not rendered.pdf or not rendered.pdf.startswith(b"%PDF"):
        raise BrowserError("Chromium returned no PDF")
    pdf_path = Path(pdf_path)
    tmp = pdf_path.with_name(pdf_path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(rendered.pdf)
    os.replace(tmp, pdf_path)
    return pdf_path
