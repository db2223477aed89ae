"""Prompt discovery for a new device: ``harness console`` and ``harness init``.

A lab used to find a console's prompts by poking it by hand, and could lock the unit doing so.
``harness console`` opens the link the way a run would (a profile's unit, or a bare URL), listens,
presses Enter once, and shows what came back byte for byte (CR, LF, ANSI escapes and other control
characters made visible), then proposes regular expressions for the prompts it saw. It never types
a password: one Enter is at most one empty login attempt, which many consoles do not even count.

``harness init`` does the same and writes a starting profile from it (console style: user and
password, password only, no login at all; a web interface that asks for Basic or Digest auth),
with the procedures a run needs marked TODO where only the manual can tell. The file it writes
validates, so ``harness validate`` and a first ``harness run`` work from it at once.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.links.expect import StreamCleaner
from harness.links.serial import SerialLink
from harness.redact import REDACTOR

NEWLINES = {"cr": "\r", "lf": "\n", "crlf": "\r\n"}
_LOGIN = re.compile(r"(login|user\s*name|username|user)\s*:\s*$", re.I)
_PASSWORD = re.compile(r"(password|passwd|passphrase|pin)\s*:?\s*$", re.I)
_SHELL = re.compile(r"[#$>%]\s?$")
_ACTIVATE = re.compile(r"press (enter|return)", re.I)
_REFUSAL = r"Login incorrect|incorrect|denied|failed|invalid"


# --- showing what the device printed ---------------------------------------------------------------

def visible(data: bytes) -> str:
    """Bytes as text with CR, LF, ESC and other control characters spelled out; a line break is
    shown after each LF so the layout stays readable."""
    out: list[str] = []
    for ch in data.decode("utf-8", errors="backslashreplace"):
        code = ord(ch)
        if ch == "\n":
            out.append("\\n\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\x1b":
            out.append("\\e")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


class _Tap:
    """Stands in for a link's StreamCleaner: keeps the raw bytes before cleaning them."""

    def __init__(self, cleaner: StreamCleaner, sink: Callable[[bytes], None]) -> None:
        self._cleaner = cleaner
        self._sink = sink

    def feed(self, data: bytes) -> str:
        self._sink(data)
        return self._cleaner.feed(data)


@dataclass
class Phase:
    name: str  # "listen", "enter", "send <line>"
    raw: bytearray = field(default_factory=bytearray)
    text: str = ""  # cleaned (ANSI stripped, newlines normalised)
    quiet: bool = True  # the device fell quiet before the phase's time was up


@dataclass
class Observation:
    target: str
    phases: list[Phase] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.phases)


def observe(link: Any, *, listen: float = 2.0, enter: bool = True, sends: list[str] | None = None,
            quiet: float = 0.7, login: tuple[str | None, str] | None = None) -> Observation:
    """Listen to an open console link, then press Enter, then send each of ``sends``; each phase
    ends when the line has been quiet ``quiet`` s (at most ``listen`` s). With ``login`` (user or
    None for a password-only console, password), log in once to see the shell prompt."""
    obs = Observation(getattr(link, "url", getattr(link, "name", "?")))
    current: list[Phase] = []
    link.cleaner = _Tap(link.cleaner, lambda data: current[-1].raw.extend(data) if current else None)

    def phase(name: str, action: Callable[[], None] | None) -> None:
        ph = Phase(name)
        current.append(ph)
        obs.phases.append(ph)
        link.drain()
        if action is not None:
            action()
        ph.quiet = link.wait_quiet(quiet, listen)
        ph.text = link.drain()

    phase("listen", None)
    if enter:
        phase("enter", lambda: link.send(""))
    if login is not None:
        user, password = login
        REDACTOR.add(password, "the password given to harness init")
        if user is not None:
            phase("send the user name", lambda: link.send(user))
        phase("send the password", lambda: link.send(password, secret=True))
    for line in sends or []:
        phase(f"send {line}", lambda line=line: link.send(line))
    iac = getattr(link, "iac", None)
    if iac is not None and iac.negotiations:
        obs.notes.append(f"telnet options the device asked for (all refused): {', '.join(iac.negotiations)}")
    return obs


# --- proposing prompts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    kind: str  # login | password | shell | activate | other
    regex: str
    example: str


def _tails(text: str) -> list[str]:
    """Candidate prompt lines: each non-empty last line of a phase, then the last line of every
    output block (a prompt is usually printed without a line ending)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return lines[-3:] if lines else []


def generalise(line: str, kind: str) -> str:
    """A regex for a prompt line: literal, with numbers as ``\\d+`` and, for a shell prompt with a
    working directory (``root@cam:~# ``), any directory; anchored at the end of the output."""
    stripped = line.lstrip()
    m = re.match(r"^(?P<head>.*?:)(?P<cwd>[~/][^#$>]*)(?P<tail>[#$>]\s?)$", stripped) if kind == "shell" else None
    if m:
        pattern = _escape_numbers(m.group("head")) + r"[^\n]*" + _literal(m.group("tail"))
    else:
        pattern = _escape_numbers(stripped)
    return pattern + "$"


def _literal(text: str) -> str:
    """re.escape for humans: only the characters that mean something in a pattern."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def _escape_numbers(text: str) -> str:
    return "".join(r"\d+" if part.isdigit() else _literal(part) for part in re.split(r"(\d+)", text))


def classify(line: str) -> str:
    if _PASSWORD.search(line):
        return "password"
    if _LOGIN.search(line):
        return "login"
    if _ACTIVATE.search(line):
        return "activate"
    if _SHELL.search(line):
        return "shell"
    return "other"


def propose(obs: Observation) -> list[Proposal]:
    """Prompt regexes for what each phase ended on, most telling first, one per kind."""
    found: dict[str, Proposal] = {}
    for ph in reversed(obs.phases):  # what the device said last is its current state
        for line in reversed(_tails(ph.text)):
            kind = classify(line)
            if kind == "other" or kind in found:
                continue
            regex = generalise(line, kind)
            if re.search(regex, line.lstrip(), re.MULTILINE):
                found[kind] = Proposal(kind, regex, line)
    order = ["login", "password", "shell", "activate"]
    return sorted(found.values(), key=lambda p: order.index(p.kind))


def style_of(proposals: list[Proposal], obs: Observation) -> str:
    """What the console asks for now: login (user and password), password (password only),
    shell (no login at all: a finding for 5.6-4), or unknown."""
    last = ""
    for ph in reversed(obs.phases):
        tails = _tails(ph.text)
        if tails:
            last = classify(tails[-1])
            break
    kinds = {p.kind for p in proposals}
    if last == "login" or "login" in kinds:
        return "login"
    if last == "password" or "password" in kinds:
        return "password"
    if last == "shell":
        return "shell"
    return "unknown"


def report(obs: Observation, proposals: list[Proposal]) -> str:
    out = [f"== {obs.target}"]
    for ph in obs.phases:
        out.append(f"-- {ph.name}: {len(ph.raw)} bytes{'' if ph.quiet else ' (still talking when the time was up)'}")
        if ph.raw:
            out.append(REDACTOR.redact(visible(bytes(ph.raw)).rstrip("\n")))
    out += [f"-- {note}" for note in obs.notes]
    out.append("-- proposed prompts (regular expressions for `prompts:` of the link):")
    if not proposals:
        out.append("   none: the device printed no prompt. Check baud rate and newline (--baud, --newline),"
                   " or power-cycle it while `harness console` listens (--listen 30).")
    for p in proposals:
        out.append(f"   {p.kind:9} {_yaml_str(p.regex):32} (seen: {p.example!r})")
    style = style_of(proposals, obs)
    out.append(f"-- console style: {_STYLE_TEXT[style]}")
    return "\n".join(out)


_STYLE_TEXT = {
    "login": "asks for a user name and a password",
    "password": "asks for a password only",
    "shell": "gives a shell prompt without any login (a finding for 5.6-4 if reachable by a user)",
    "unknown": "not recognised (no login, password or shell prompt seen)",
}


# --- opening a console --------------------------------------------------------------------------------

def open_url(url: str, *, baud: int = 115200, newline: str = "\r\n", timeout: float = 5.0,
             transcript_dir: str | Path | None = None) -> Any:
    """A console link for a bare URL: ``telnet://host[:port]``, or any pyserial URL or device path."""
    if url.startswith("telnet://"):
        from harness.links.telnet import TelnetLink
        from harness.scope import Scope

        host, _, port = url.removeprefix("telnet://").rstrip("/").partition(":")
        try:
            address = socket.gethostbyname(host)
        except OSError as exc:
            raise SystemExit(f"harness: cannot resolve {host!r}: {exc}") from exc
        # The user named this host on the command line: that is the whole scope.
        return TelnetLink("console", host=address, port=int(port or 23), newline=newline, timeout=timeout,
                          transcript_dir=transcript_dir, scope=Scope([f"{address}/32"])).open()
    return SerialLink("console", url, baud=baud, newline=newline, timeout=timeout,
                      transcript_dir=transcript_dir).open()


def open_profile_link(profile: str, lab: str | None, unit: str | None, link: str | None,
                      transcript_dir: str | Path | None) -> tuple[Any, Any]:
    """The console link of a profile's unit, opened exactly as a run opens it."""
    from harness.device import Device
    from harness.profile import open_bench

    bench = open_bench(profile, lab)
    unit_id = unit or bench.profile.units[0].id
    consoles = [n for n, spec in bench.profile.links.items() if getattr(spec, "type", "") in ("serial", "telnet")]
    name = link or (consoles[0] if consoles else None)
    if name is None:
        raise SystemExit("harness: the profile declares no serial or telnet link")
    device = Device(bench, unit_id, transcript_dir=transcript_dir)
    return device, device.link(name)


# --- http ---------------------------------------------------------------------------------------------------

@dataclass
class HttpFinding:
    url: str
    status: int | None
    auth: str | None  # basic | digest | None
    realm: str = ""
    error: str = ""


def probe_http(url: str, *, timeout: float = 5.0) -> HttpFinding:
    """One GET of the web interface's root: does it ask for Basic or Digest auth?"""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # discovery only: nothing is sent but a GET
    request = urllib.request.Request(url, headers={"User-Agent": "iot-conformance-harness"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:  # noqa: S310
            return HttpFinding(url, resp.status, None)
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "") if exc.headers else ""
        scheme = challenge.split(" ", 1)[0].lower() if challenge else ""
        realm = m.group(1) if (m := re.search(r'realm="([^"]*)"', challenge)) else ""
        return HttpFinding(url, exc.code, scheme if scheme in ("basic", "digest") else None, realm)
    except (urllib.error.URLError, OSError) as exc:
        return HttpFinding(url, None, None, error=str(getattr(exc, "reason", exc)))


# --- a starting profile -------------------------------------------------------------------------------------

def _yaml_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _prompt(proposals: list[Proposal], kind: str, fallback: str) -> str:
    for p in proposals:
        if p.kind == kind:
            return p.regex
    return fallback


def starting_profile(*, console_url: str | None, obs: Observation | None, http: HttpFinding | None,
                     baud: int = 115200, newline: str = "\r\n") -> str:
    """The YAML text of a profile that validates, from what was seen; TODO marks the rest."""
    proposals = propose(obs) if obs else []
    style = style_of(proposals, obs) if obs else "none"
    telnet = bool(console_url and console_url.startswith("telnet://"))
    host = port = ""
    if telnet and console_url:
        host, _, port = console_url.removeprefix("telnet://").rstrip("/").partition(":")
    address = host if host and re.match(r"^\d+\.\d+\.\d+\.\d+$", host) else ""
    if not address and http:
        m = re.match(r"^https?://(\d+\.\d+\.\d+\.\d+)", http.url)
        address = m.group(1) if m else ""
    lines: list[str] = [
        "# Starting profile written by `harness init` from what the device printed. Read every TODO,",
        "# fill in product and units from the label and manual, then `harness validate` this file.",
    ]
    if obs:
        lines.append(f"# Console {console_url}: {_STYLE_TEXT.get(style, style)}.")
    if style == "shell":
        lines.append("# FINDING to confirm: the console gave a shell without a login (EN 303 645 5.6-4).")
    if http:
        lines.append(f"# Web {http.url}: " + (f"HTTP {http.status}" if http.status else f"no answer ({http.error})")
                     + (f", asks for {http.auth.title()} auth (realm {http.realm!r})" if http.auth else ""))
    lines += [
        "schema_version: 1",
        "product:",
        "  manufacturer: TODO manufacturer",
        "  model: TODO model",
        "  firmware: ''                 # TODO: the firmware version the units should have",
        "units:",
        "  - id: U1",
        "    serial: TODO-serial        # from the label",
    ]
    if address:
        lines.append(f"    address: {address}")
    lines += [
        "    accounts:",
        "      admin:                   # TODO: the account name of the manual ('root', 'admin' …)",
        "        password: {secret: U1_ADMIN_PASSWORD}   # the label password, from the lab's secrets file",
    ]
    if console_url and not telnet:
        lines += ["    links:", f"      console: {{url: {_yaml_str(console_url)}}}"]
    lines.append("links:")
    console = "console" if console_url else None
    if console_url:
        prompts = {
            "prompt": _prompt(proposals, "shell", r"TODO-shell-prompt[#$>] $"),
            "login_prompt": _prompt(proposals, "login", r"login: $"),
            "password_prompt": _prompt(proposals, "password", r"Password: $"),
        }
        lines.append("  console:")
        if telnet:
            lines += ["    type: telnet", f"    host: {host}" if not address else "    # host: the unit's address",
                      f"    port: {port or 23}"]
        else:
            lines += ["    type: serial", f"    baud: {baud}"]
        lines += ['    newline: "' + newline.encode("unicode_escape").decode() + '"',
                  "    timeout: 10",
                  "    settle: 0.3              # quiet time before each send: some consoles drop early input",
                  "    prompts:"]
        lines += [f"      {k}: {_yaml_str(v)}" for k, v in prompts.items()]
    web = "web" if http else None
    if http:
        lines += ["  web:", "    type: http", f"    base_url: {_yaml_str(http.url.rstrip('/'))}"]
        if http.url.startswith("https://"):
            lines.append("    verify: false            # TODO: give the maker's CA as `ca:` instead")
        lines.append("    timeout: 10")
    lines.append("procedures:")
    lines += _procedures(style, console, web, http, proposals)
    lines += [
        "ics:",
        "  conditions: {}               # TODO: Table B.1 conditions of this product",
    ]
    return "\n".join(lines) + "\n"


def _todo(link: str | None, name: str) -> list[str]:
    """A placeholder that ends INCONCLUSIVE (timeout) instead of doing anything on the device."""
    if link and link != "web":
        return [f"  {name}:                    # TODO: write from the manual",
                f"    - {link}.expect: 'TODO-{name}'", "      timeout: 1"]
    return [f"  {name}:                    # TODO: write from the manual",
            f"    - web.get: /TODO-{name}", "      outcomes: {ok: 299}"]


def _procedures(style: str, console: str | None, web: str | None, http: HttpFinding | None,
                proposals: list[Proposal]) -> list[str]:
    out: list[str] = []
    c = console
    if c:
        out += ["  attention:                   # where is the console: shell or login?",
                f"    - {c}.send: ''"]
        if style == "password":
            out[-1] += "           # an Enter at a password prompt is an empty password (a refused try)"
            out.append(f"    - {c}.expect_one_of: {{logged_in: prompt, logged_out: password_prompt}}")
        else:
            out.append(f"    - {c}.expect_one_of: {{logged_in: prompt, logged_out: login_prompt}}")
    if c and style in ("login", "unknown"):
        out += ["  login:",
                f"    - {c}.send: ''", f"    - {c}.expect: login_prompt",
                f"    - {c}.send: '{{{{user}}}}'", f"    - {c}.expect: password_prompt",
                f"    - {c}.send: '{{{{password}}}}'",
                f"    - {c}.expect_one_of: {{ok: prompt, rejected: {_yaml_str(_REFUSAL)}, locked: 'locked'}}",
                "  alive:                       # proof of life after a refusal: the login prompt again",
                f"    - {c}.send: ''", f"    - {c}.expect: login_prompt",
                "  logout:", f"    - {c}.send: exit", f"    - {c}.expect: login_prompt",
                "  booted:", f"    - {c}.expect: login_prompt"]
    elif c and style == "password":
        password_re = _prompt(proposals, "password", r"Password: $")
        out += ["  login:                       # password only: no {{user}}",
                f"    - {c}.send: ''", f"    - {c}.expect: password_prompt",
                f"    - {c}.send: '{{{{password}}}}'",
                "    # the prompt again is the refusal; matched without consuming it, for `alive`",
                f"    - {c}.expect_one_of: {{ok: prompt, rejected: {_yaml_str('(?=' + password_re + ')')}}}",
                "  alive:",
                f"    - {c}.expect: password_prompt",
                "  logout:                      # TODO: the manual's command; without one, delete this",
                f"    - {c}.send: exit", f"    - {c}.expect: password_prompt",
                "  booted:", f"    - {c}.expect: password_prompt"]
    elif c and style == "shell":
        out += ["  login:                       # the console asks for nothing: a shell is there",
                f"    - {c}.send: ''", f"    - {c}.expect: prompt",
                "  alive:", f"    - {c}.send: ''", f"    - {c}.expect: prompt",
                "  logout:                      # nothing to log out of",
                f"    - {c}.send: ''", f"    - {c}.expect: prompt",
                "  booted:", f"    - {c}.expect: prompt"]
    if web and http:
        auth = http.auth or "basic"
        name = "login_http" if c else "login"
        out += [f"  {name}:                   # the web interface's own login" + ("" if http.auth else
                " (TODO: no auth challenge seen; write the real login)"),
                "    - web.get: /",
                f"      auth: {{{auth}: {{user: '{{{{user}}}}', password: '{{{{password}}}}'}}}}",
                "      outcomes: {ok: 200, rejected: [401, 403], locked: 429}"]
        if not c:
            out += ["  alive:                       # answers at all (a 401 is an answer)",
                    "    - web.get: /", "      auth: none", "      outcomes: {ok: [200, 401, 403]}",
                    "  booted:", "    - web.get: /", "      auth: none", "      outcomes: {ok: [200, 401, 403]}"]
    link = c or web
    for name in ("factory_reset", "set_user_data", "read_user_data", "change_password", "reboot"):
        out += _todo(link, name)
    return out


def write_profile(text: str, out: Path, *, force: bool = False) -> list[str]:
    """Write the profile and validate it; returns the validation issues (none expected)."""
    from harness.profile import ConfigError, load_profile

    if out.exists() and not force:
        raise SystemExit(f"harness: {out} exists (use --force to overwrite)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    try:
        load_profile(out)
    except ConfigError as exc:
        return [str(i) for i in exc.issues]
    return []


# --- commands ---------------------------------------------------------------------------------------------

def _observe_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--baud", type=int, default=115200, help="serial speed (default 115200)")
    p.add_argument("--newline", choices=sorted(NEWLINES), default="crlf",
                   help="line ending sent after each line (default crlf)")
    p.add_argument("--listen", type=float, default=3.0,
                   help="seconds to listen in each phase at most (default 3; longer to catch a boot log)")
    p.add_argument("--no-enter", action="store_true", help="only listen: do not press Enter")
    p.add_argument("--send", action="append", default=[], metavar="LINE",
                   help="also send LINE (repeatable; never put a password here)")
    p.add_argument("--login", metavar="USER", help="log in once as USER to see the shell prompt "
                   "('' for a password-only console); the password comes from --password-env")
    p.add_argument("--password-env", metavar="NAME", help="environment variable holding that password")


def _login(args: argparse.Namespace) -> tuple[str | None, str] | None:
    if args.login is None:
        return None
    password = os.environ.get(args.password_env or "", None)
    if password is None:
        raise SystemExit("harness: --login needs --password-env NAME (an environment variable set to the password)")
    return (args.login or None, password)


def cmd_console(args: argparse.Namespace) -> int:
    device = None
    try:
        if args.url:
            link = open_url(args.url, baud=args.baud, newline=NEWLINES[args.newline], transcript_dir=args.transcripts)
        elif args.profile:
            device, link = open_profile_link(args.profile, args.lab, args.unit, args.link, args.transcripts)
        else:
            print("harness: give a PROFILE (with --unit) or --url URL", file=sys.stderr)
            return 2
        obs = observe(link, listen=args.listen, enter=not args.no_enter, sends=args.send, login=_login(args))
    except Exception as exc:  # noqa: BLE001 — a command line tool reports, it does not trace back
        from harness.profile import ConfigError
        from harness.verdict import LabFault
        if not isinstance(exc, (LabFault, ConfigError, OSError, ValueError)):
            raise
        print(f"harness: {exc}", file=sys.stderr)
        return 2
    finally:
        if device is not None:
            device.close()
    if args.url:
        link.close()
    print(report(obs, propose(obs)))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    if not args.console and not args.http:
        print("harness: give --console URL and/or --http URL", file=sys.stderr)
        return 2
    obs = None
    newline = NEWLINES[args.newline]
    if args.console:
        try:
            link = open_url(args.console, baud=args.baud, newline=newline, transcript_dir=args.transcripts)
        except Exception as exc:  # noqa: BLE001
            print(f"harness: {exc}", file=sys.stderr)
            return 2
        try:
            obs = observe(link, listen=args.listen, enter=not args.no_enter, sends=args.send, login=_login(args))
        finally:
            link.close()
        print(report(obs, propose(obs)))
    http = probe_http(args.http) if args.http else None
    if http:
        print(f"== {http.url}: " + (f"HTTP {http.status}" if http.status else f"no answer ({http.error})")
              + (f", {http.auth} auth" if http.auth else ""))
    text = starting_profile(console_url=args.console, obs=obs, http=http, baud=args.baud, newline=newline)
    issues = write_profile(text, Path(args.out), force=args.force)
    if issues:
        print("harness: the written profile does not validate (please report this):", file=sys.stderr)
        for issue in issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} (validates); next: fill in the TODOs, then `harness validate {args.out}`")
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``console`` and ``init`` on the ``harness`` command's subparsers."""
    c = sub.add_parser("console", help="show what a device's console prints and propose prompt regexes")
    c.add_argument("profile", nargs="?", help="device profile (its unit's console link is opened)")
    c.add_argument("--lab", help="lab configuration (runtime facts, secrets)")
    c.add_argument("--unit", help="unit id (default: the first)")
    c.add_argument("--link", help="link name (default: the first serial or telnet link)")
    c.add_argument("--url", help="open this console instead: /dev/ttyUSB0, rfc2217://h:p, socket://h:p, telnet://h[:p]")
    c.add_argument("--transcripts", default=None, help="folder for the transcript (default: a temp folder)")
    _observe_args(c)
    c.set_defaults(func=cmd_console)

    i = sub.add_parser("init", help="write a starting device profile from what the console and web interface show")
    i.add_argument("--console", help="console URL: /dev/ttyUSB0, rfc2217://h:p, socket://h:p, telnet://h[:p]")
    i.add_argument("--http", help="web interface URL, e.g. http://192.0.2.10/")
    i.add_argument("--out", required=True, help="profile file to write")
    i.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    i.add_argument("--transcripts", default=None, help="folder for the transcript (default: a temp folder)")
    _observe_args(i)
    i.set_defaults(func=cmd_init)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
