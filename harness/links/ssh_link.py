"""An SSH service as a profile link: login steps (``ssh.login``) for 5.1-1 and 5.1-5 over SSH.

The protocol work (asyncssh, algorithm assessment) lives in harness.links.ssh; this adapter binds
host, port and scope from the profile and keeps a transcript of the attempts.
"""

from __future__ import annotations

from typing import Any

from harness.links.transcript import Transcript
from harness.scope import Scope


class SshConsole:
    kind = "ssh"

    def __init__(self, name: str, *, host: str, port: int = 22, timeout: float = 10.0, scope: Scope,
                 transcript_dir: Any = None, **_: Any) -> None:
        self.name, self.host, self.port, self.timeout, self.scope = name, host, port, timeout, scope
        self.transcript = Transcript(name, transcript_dir)

    def open(self) -> SshConsole:
        return self

    def close(self) -> None:
        self.transcript.close()

    def login(self, user: str, password: str, *, timeout: float | None = None) -> Any:
        from harness.links.ssh import ssh_login

        self.transcript.sent(f"ssh {user}@{self.host}:{self.port} password «secret input»")
        probe = ssh_login(self.host, self.port, user, password, scope=self.scope, timeout=timeout or self.timeout)
        self.transcript.received(f"{probe.outcome}: {probe.detail}\n")
        return probe
