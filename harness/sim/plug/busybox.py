"""What the firmware's `sh -c "ntpdate <server>"` makes of a setting (the setting_injection defect):
command substitution, `;`, `|`, `&&` and new lines run a handful of BusyBox applets, whose output
ends up in the stored value. Nothing runs on the host: the applets are answered from a table."""

from __future__ import annotations

import re

MAX_DEPTH = 4
MAX_COMMANDS = 16
_ARITH = re.compile(r"\$\(\(\s*(-?\d{1,9})\s*([-+*])\s*(-?\d{1,9})\s*\)\)")
_SUBST = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
_SEPARATORS = re.compile(r";|\|\||&&|\||\n")

APPLETS = {
    "id": "uid=0(root) gid=0(root) groups=0(root)",
    "whoami": "root",
    "uname": "Linux",
    "uname -a": "Linux voltiq 4.14.90 #1 Mon Mar 18 09:12:44 CET 2024 xtensa GNU/Linux",
    "hostname": "voltiq",
    "pwd": "/",
    "cat /etc/passwd": "root:x:0:0:root:/root:/bin/sh",
}


def run_command(command: str) -> str:
    """The output of one simple command (no substitution left in it)."""
    words = command.split()
    if not words:
        return ""
    if words[0] == "echo":
        return " ".join(words[1:])
    if words[0] in ("true", "sleep", "ntpdate"):
        return ""
    out = APPLETS.get(" ".join(words))
    return out if out is not None else f"sh: {words[0]}: not found"


def arithmetic(text: str) -> str:
    """`$((a+b))`, `$((a-b))`, `$((a*b))` with integers: what the probes of a lab use."""
    def value(m: re.Match[str]) -> str:
        a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
        return str(a + b if op == "+" else a - b if op == "-" else a * b)
    return _ARITH.sub(value, text)


def substitute(text: str, depth: int = 0) -> str:
    """Replace each `$((arithmetic))`, then each `$(cmd)` and `` `cmd` `` with the command's output."""
    if depth >= MAX_DEPTH:
        return text
    text = arithmetic(text)
    out = _SUBST.sub(lambda m: run_script(m.group(1) if m.group(1) is not None else m.group(2), depth + 1), text)
    return out


def run_script(script: str, depth: int = 0) -> str:
    """Output of a command line: each command separated by ; | && || or a new line runs in turn."""
    parts = _SEPARATORS.split(substitute(script, depth))[:MAX_COMMANDS]
    return "\n".join(o for o in (run_command(p) for p in parts) if o)


def ntp_setting(value: str) -> str:
    """What the defective firmware stores for `NtpServer1 <value>`: the expanded first word, then the
    output of every further command the shell ran."""
    expanded = substitute(value)
    first, *rest = _SEPARATORS.split(expanded)[:MAX_COMMANDS]
    outputs = [o for o in (run_command(p) for p in rest) if o]
    return " ".join([first.strip(), *outputs]).strip()
