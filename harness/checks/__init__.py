"""Provision logic as pure functions: facts in, CheckResult (verdict + evidence) out. No I/O."""
