"""The camera's OpenSSH (port 7022): the hub's listener and host-key handling
(harness.sim.sshd.SshServer), the camera's authentication (pam_faillock) and BusyBox shell
(harness.sim.camera.ssh_session, loaded at the first connection like the hub's engine)."""

from __future__ import annotations

import importlib
import socket
from typing import TYPE_CHECKING

from harness.sim.sshd import SshServer

if TYPE_CHECKING:
    from pathlib import Path

    from harness.sim.camera.cloud import CloudClient
    from harness.sim.camera.unit import CameraUnit


class CameraSshServer(SshServer):
    def __init__(self, unit: CameraUnit, cloud: CloudClient | None, key_path: Path) -> None:
        super().__init__(unit, None, key_path)
        self.camera = unit
        self.cloud = cloud

    async def _serve(self, conn: socket.socket) -> None:
        try:
            _, key = await self._load()
            session = importlib.import_module("harness.sim.camera.ssh_session")
        except Exception:
            conn.close()
            raise
        await session.serve(self, conn, key)
