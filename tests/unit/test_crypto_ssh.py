"""5.5-1 SSH judgement against ssh-audit's algorithm database: every rule both ways, missing data
is never a PASS. No network: the facts are built here."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from harness.checks.crypto import HostKeyFact, SshFacts, judge_ssh
from harness.verdict import CheckResult, Verdict

FP = "SHA256:abc"


def findings(result: CheckResult) -> list[str]:
    return [e.name for e in result.evidence if e.kind == "finding"]


def advisories(result: CheckResult) -> list[str]:
    return [e.data for e in result.evidence if e.kind == "observation" and e.name == "advisory"]


def modern(**changes) -> SshFacts:
    facts = SshFacts(
        host="192.0.2.1", port=22, banner="SSH-2.0-OpenSSH_9.9", protocol="2.0", software="OpenSSH_9.9",
        kex=["mlkem768x25519-sha256", "curve25519-sha256", "ext-info-s", "kex-strict-s-v00@openssh.com"],
        host_key_algorithms=["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
        ciphers=["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr"],
        macs=["hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"],
        compression=["none"],
        host_keys=[HostKeyFact("ssh-ed25519", 256, sha256="SHA256:ed"),
                   HostKeyFact("rsa-sha2-512", 3072, sha256=FP), HostKeyFact("rsa-sha2-256", 3072, sha256=FP)],
        scanner="test")
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def test_modern_server_passes_and_lists_what_was_checked():
    result = judge_ssh(modern())
    assert result.verdict == Verdict.PASS, result.reason
    assert "checked key exchange" in result.reason and "Terrapin" in result.reason
    assert findings(result) == []
    table = next(e for e in result.evidence if e.name == "SSH algorithms")
    assert {row["algorithm"] for row in table.data} >= {"curve25519-sha256", "ssh-ed25519", "aes128-ctr"}


@pytest.mark.parametrize(("field", "alg", "text"), [
    ("host_key_algorithms", "ssh-rsa", "ssh-audit: host key algorithm ssh-rsa: using broken SHA-1 hash algorithm"),
    ("kex", "diffie-hellman-group1-sha1", "ssh-audit: key exchange diffie-hellman-group1-sha1: using small 1024-bit modulus"),
    ("kex", "diffie-hellman-group14-sha1", "ssh-audit: key exchange diffie-hellman-group14-sha1: using broken SHA-1 hash algorithm"),
    ("macs", "hmac-sha1", "ssh-audit: MAC hmac-sha1: using broken SHA-1 hash algorithm"),
    ("macs", "hmac-md5", "ssh-audit: MAC hmac-md5: using broken MD5 hash algorithm"),
    ("ciphers", "3des-cbc", "ssh-audit: cipher 3des-cbc: using broken & deprecated 3DES cipher"),
    ("ciphers", "aes128-cbc", "ssh-audit: cipher aes128-cbc: using weak cipher mode"),  # a promoted [warn]
    ("ciphers", "arcfour", "ssh-audit: cipher arcfour: using broken RC4 cipher"),
    ("ciphers", "none", "ssh-audit: cipher none: no encryption/integrity"),
])
def test_each_legacy_algorithm_fails_by_itself(field, alg, text):
    facts = modern()
    getattr(facts, field).append(alg)
    if alg == "ssh-rsa":
        facts.host_keys.append(HostKeyFact("ssh-rsa", 3072, sha256=FP))
    result = judge_ssh(facts)
    assert result.verdict == Verdict.FAIL
    assert text in findings(result)
    assert all(alg in f for f in findings(result)), findings(result)


def test_plain_warnings_are_advisories_not_findings():
    facts = modern()
    facts.macs.append("hmac-sha2-256")  # ssh-audit: [warn] encrypt-and-MAC mode
    result = judge_ssh(facts)
    assert result.verdict == Verdict.PASS
    assert "ssh-audit: MAC hmac-sha2-256: using encrypt-and-MAC mode" in advisories(result)


def test_rsa_host_key_size_thresholds():
    def with_rsa(bits: int) -> SshFacts:
        return modern(host_keys=[HostKeyFact("rsa-sha2-512", bits, sha256=FP), HostKeyFact("rsa-sha2-256", bits, sha256=FP)])

    result = judge_ssh(with_rsa(1024))
    assert findings(result) == ["ssh-audit: RSA host key 1024 bits < 2048 (rsa-sha2-512, rsa-sha2-256)"]
    result = judge_ssh(with_rsa(2048))
    assert result.verdict == Verdict.PASS
    assert "ssh-audit: RSA host key 2048 bits < 3072 (rsa-sha2-512, rsa-sha2-256)" in advisories(result)
    assert judge_ssh(with_rsa(4096)).verdict == Verdict.PASS


def test_rsa_host_key_of_unknown_size_is_inconclusive():
    facts = modern(host_keys=[HostKeyFact("ssh-ed25519", 256)])
    facts.errors["host_keys"] = "ssh-audit could not fetch the RSA host key"
    result = judge_ssh(facts)
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "host key size for rsa-sha2-512 (ssh-audit could not fetch the RSA host key)" in result.reason


def test_small_host_certificate_ca_key_fails():
    facts = modern()
    facts.host_key_algorithms.append("rsa-sha2-256-cert-v01@openssh.com")
    facts.host_keys.append(HostKeyFact("rsa-sha2-256-cert-v01@openssh.com", 3072, ca_type="ssh-rsa", ca_bits=1024))
    assert "ssh-audit: host certificate CA key 1024 bits < 2048 (rsa-sha2-256-cert-v01@openssh.com)" in findings(
        judge_ssh(facts))


def test_terrapin_needs_strict_kex():
    no_strict = modern(kex=["curve25519-sha256"])
    result = judge_ssh(no_strict)
    assert findings(result) == ["ssh-audit: Terrapin (CVE-2023-48795): chacha20-poly1305@openssh.com offered "
                                "without strict key exchange (kex-strict-s-v00@openssh.com)"]
    assert judge_ssh(replace(no_strict, ciphers=["aes256-gcm@openssh.com", "aes128-ctr"])).verdict == Verdict.PASS
    cbc_etm = replace(no_strict, ciphers=["aes128-ctr", "aes128-cbc"])
    assert any(f.startswith("ssh-audit: Terrapin (CVE-2023-48795): aes128-cbc, hmac-sha2-256-etm@openssh.com")
               for f in findings(judge_ssh(cbc_etm)))


def test_nist_curves_fail_by_default_and_pass_when_the_lab_accepts_them():
    facts = modern()
    facts.kex.insert(0, "ecdh-sha2-nistp256")
    facts.host_key_algorithms.append("ecdsa-sha2-nistp256")
    default = judge_ssh(facts)
    assert default.verdict == Verdict.FAIL
    assert any("ecdh-sha2-nistp256" in f and "backdoored" in f for f in findings(default))
    accepted = judge_ssh(facts, "ssh-audit-nist-curves-accepted")
    assert accepted.verdict == Verdict.PASS
    assert any("ecdsa-sha2-nistp256" in a for a in advisories(accepted))


def test_unknown_algorithm_is_inconclusive_not_pass():
    facts = modern()
    facts.ciphers.append("vendor-cipher@example.com")
    result = judge_ssh(facts)
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "cipher vendor-cipher@example.com (not in ssh-audit's database)" in result.reason
    facts.macs.append("hmac-sha1")
    assert judge_ssh(facts).verdict == Verdict.FAIL


def test_gss_kex_names_are_matched_by_ssh_audit_wildcard():
    facts = modern()
    facts.kex.append("gss-group1-sha1-toWM5Slw5Ew8Mqkay+al2g==")
    assert any("gss-group1-sha1-toWM5Slw5Ew8Mqkay+al2g==: using small 1024-bit modulus" in f
               for f in findings(judge_ssh(facts)))


def test_no_offer_read_is_inconclusive_and_protocol_1_fails():
    empty = SshFacts(host="192.0.2.1", port=22, banner="SSH-2.0-x", protocol="2.0",
                     errors={"algorithms": "expected KEXINIT, got message 1"})
    result = judge_ssh(empty)
    assert result.verdict == Verdict.INCONCLUSIVE and "expected KEXINIT" in result.reason
    old = replace(modern(), banner="SSH-1.99-OpenSSH_3.9", protocol="1.99")
    assert "ssh-audit: SSH protocol 1 offered (banner SSH-1.99-OpenSSH_3.9)" in findings(judge_ssh(old))


def test_unknown_policy_is_refused_and_facts_round_trip():
    with pytest.raises(ValueError, match="unknown SSH policy"):
        judge_ssh(modern(), "strict")
    facts = modern()
    assert SshFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts
