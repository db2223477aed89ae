"""What the firmware's parsers make of malformed input (5.13-1: the fuzzer's classes of input).

Compliant firmware answers with an error and goes on; with the behaviour `crashes_on_malformed`
the same inputs crash it (harness.sim.unit.Unit.crash: silent until a power cycle). The triggers:

* a shell line (console, telnet, SSH) longer than 1024 bytes, not valid UTF-8, or containing the
  format directive `%n` (the classic printf-of-user-input bug; compliant firmware just treats it as
  text: `sh: %n: not found`);
* an MQTT command payload longer than 1024 bytes or not valid UTF-8;
* a malformed update package (harness.sim.updates raises UpdateParserCrash)."""

from __future__ import annotations

from harness.sim.lines import MAX_LINE

MAX_PAYLOAD = 1024  # bytes of an MQTT command payload
FORMAT_DIRECTIVE = "%n"
REPLACEMENT = "\ufffd"  # the line reader's stand-in for bytes that are not UTF-8


def line_problem(line: str) -> str | None:
    """The error compliant firmware prints for a shell line (after `sh: `), or None."""
    if REPLACEMENT in line:
        return "input is not valid UTF-8"
    if len(line.encode()) > MAX_LINE:
        return f"line too long (more than {MAX_LINE} bytes)"
    return None


def line_crashes(line: str) -> bool:
    """Whether a shell line reaches the crashing code path of `crashes_on_malformed`."""
    return line_problem(line) is not None or FORMAT_DIRECTIVE in line


def payload_problem(payload: bytes) -> str | None:
    """The error compliant firmware answers for an MQTT command payload, or None."""
    if len(payload) > MAX_PAYLOAD:
        return f"payload too long (more than {MAX_PAYLOAD} bytes)"
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return "payload is not valid UTF-8"
    return None
