"""5.13-1-2 judged by effect: injected commands, kept invalid values, liveness, delivery, both ways."""

from __future__ import annotations

import random
import re

from harness.cases.resilience import Setting, injection_probes
from harness.checks.resilience import (
    FuzzCase,
    InjectionProbe,
    InputValidationObservation,
    judge_input_validation,
)


def probe(stored: str | None = "pool.ntp.org", **kw: object) -> InjectionProbe:
    base: dict = dict(setting="NtpServer1", family="$(…)", input="'$(id)'", delivered=True, accepted=False,
                      stored=stored, alive_after=True)
    base.update(kw)
    return InjectionProbe(**base)


def fuzz(n: int = 3, **kw: object) -> list[FuzzCase]:
    return [FuzzCase("http", repr("x" * i), kw.get("alive", True), kw.get("delivered", True)) for i in range(n)]


def obs(probes: list[InjectionProbe], fz: list[FuzzCase] | None = None, **kw: object) -> InputValidationObservation:
    fz = fuzz() if fz is None else fz
    base: dict = dict(alive_at_start=True, fuzz=fz, fuzz_planned=len(fz), probes=probes, probes_planned=len(probes),
                      settings=["NtpServer1"])
    base.update(kw)
    return InputValidationObservation(**base)


def test_clean_device_passes() -> None:
    r = judge_input_validation(obs([probe(), probe(family="backticks", accepted=True, stored="`id`")]))
    assert r.verdict == "PASS", r.reason
    assert "NtpServer1" in r.reason


def test_command_output_in_stored_value_fails() -> None:
    executed = probe(accepted=True, stored="uid=0(root) gid=0(root)", command_output="uid=0(root)",
                     seen_in="the stored value")
    r = judge_input_validation(obs([probe(), executed]))
    assert r.verdict == "FAIL" and "ran a command" in r.reason
    assert any(e.kind == "finding" for e in r.evidence)


def test_invalid_value_kept_fails() -> None:
    r = judge_input_validation(obs([probe(accepted=True, stored="x;id", invalid_kept=True)]))
    assert r.verdict == "FAIL" and "kept" in r.reason


def test_not_alive_at_start_is_inconclusive_not_fail() -> None:
    # A unit frozen before the test: nothing was sent, nothing is judged (was a FAIL).
    r = judge_input_validation(obs([], [], alive_at_start=False, start_note="attention timed out"))
    assert r.verdict == "INCONCLUSIVE" and "before the first input" in r.reason
    assert judge_input_validation(obs([], [], alive_at_start=None)).verdict == "INCONCLUSIVE"


def test_undelivered_inputs_are_not_delivered() -> None:
    # A dead broker: the publishes failed, so they are no inputs at all.
    dead = [FuzzCase("mqtt", "'x'", True, False, "broker connection refused") for _ in range(3)]
    r = judge_input_validation(obs([], dead, settings=[]))
    assert r.verdict == "INCONCLUSIVE" and "0 inputs reached" in r.reason and "refused" in r.reason
    part = fuzz(2) + dead[:1]
    r = judge_input_validation(obs([probe()], part))
    assert r.verdict == "INCONCLUSIVE" and "not delivered" in r.reason
    # An undelivered input followed by a dead unit is not a crash the input caused.
    lost = [FuzzCase("mqtt", "'x'", False, False, "link error")]
    assert judge_input_validation(obs([probe()], fuzz(2) + lost)).verdict == "INCONCLUSIVE"


PROVEN = "the bench power-cycled the unit and it answered again over the same link"


def test_crash_after_delivered_input_fails() -> None:
    crash = fuzz(2) + [FuzzCase("mqtt", "'{\"a\": [[[[['", False, alive_before=True, lab_proof=PROVEN)]
    r = judge_input_validation(obs([probe()], crash, fuzz_planned=10))
    assert r.verdict == "FAIL" and "mqtt" in r.reason
    finding = next(e for e in r.evidence if e.kind == "finding")
    assert finding.data["lab side shown working by"] == PROVEN
    r = judge_input_validation(obs([probe(alive_after=False, alive_before=True, lab_proof=PROVEN)]))
    assert r.verdict == "FAIL" and "setting NtpServer1" in r.reason


def test_silence_without_a_working_lab_is_inconclusive_not_fail() -> None:
    # Seen: a serial server that froze mid-run read as "the device stopped answering" (FAIL).
    frozen = FuzzCase("serial", "'%s%n'", False, alive_before=True,
                      lab_fault="the power cycle through the bench failed: supply: VI_ERROR_TMO")
    r = judge_input_validation(obs([probe()], fuzz(2) + [frozen], fuzz_planned=10))
    assert r.verdict == "INCONCLUSIVE" and "VI_ERROR_TMO" in r.reason and "lab" in r.reason, r.reason
    nothing = FuzzCase("serial", "'%s%n'", False, alive_before=True)
    assert judge_input_validation(obs([probe()], [nothing])).verdict == "INCONCLUSIVE"
    r = judge_input_validation(obs([probe(alive_after=False, alive_before=True,
                                          lab_fault="the profile declares no power_cycle procedure")]))
    assert r.verdict == "INCONCLUSIVE" and "power_cycle" in r.reason


def test_silence_after_a_unit_not_proven_alive_before_is_inconclusive() -> None:
    # The probe before this input met a link error (alive None): the unit may have stopped earlier.
    unknown = FuzzCase("serial", "'x'", False, alive_before=None, lab_proof=PROVEN)
    r = judge_input_validation(obs([probe()], fuzz(2) + [unknown]))
    assert r.verdict == "INCONCLUSIVE" and "right before" in r.reason, r.reason


def test_liveness_alone_is_not_a_pass() -> None:
    r = judge_input_validation(obs([], fuzz(5), settings=[]))
    assert r.verdict == "INCONCLUSIVE" and "29-InpVal" in r.reason


def test_gaps_are_inconclusive() -> None:
    assert judge_input_validation(obs([probe(stored=None, accepted=True)])).verdict == "INCONCLUSIVE"
    assert judge_input_validation(obs([probe(alive_after=None)])).verdict == "INCONCLUSIVE"
    assert judge_input_validation(obs([probe()], probes_planned=4)).verdict == "INCONCLUSIVE"


def test_probes_are_distinguishable_from_their_input() -> None:
    probes = injection_probes(Setting("NtpServer1", "http"), random.Random(7))
    families = {f for f, _, _ in probes}
    assert {"$(…)", "backticks", ";", "|", "newline"} <= families
    for _, value, output in probes:
        assert re.search(output, value) is None, (value, output)  # the literal never looks like output
    assert re.search(probes[0][2], "uid=0(root) gid=0(root)")
    console = injection_probes(Setting("ssid", "console"), random.Random(7))
    assert "newline" not in {f for f, _, _ in console}
