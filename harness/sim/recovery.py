"""The hub's service mode: its bootloader's recovery console, the way back to the firmware a unit
was delivered with (the hub manual's "Service mode", docs/simulator.md, "Service mode and firmware recovery").

Power comes on while the reset button is held (on the bench: relay channel 1 of the unit's supply
closed while the output switches on — the service jig, harness.sim.jig, does exactly that). The
bootloader then does not start the firmware; it keeps the serial console and waits:

    SimIoT bootloader v2.1
    recovery: reset button held at power-on: service mode
    recovery>

``install <url>`` fetches a package and writes it only if it is the manufacturer-signed factory
image of this model (harness.sim.updates.check_factory_image): the recovery path goes back to what
the unit was delivered with and nowhere else, so it is no rollback path for an attacker without
the unit in hand. ``boot`` leaves service mode and boots the installed firmware; ``version`` and
``help`` say what they say. Nothing else runs meanwhile (no network service answers, no MQTT) and a
power cut ends service mode like anything else; an install cut short keeps the old firmware (the
version is written last, in one step).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from harness.sim import packages, runtime
from harness.sim.catalog import FIRMWARE, MODEL
from harness.sim.lines import LineReader
from harness.sim.unit import Event, Unit
from harness.sim.updater import FetchError, fetch
from harness.sim.updates import check_factory_image

if TYPE_CHECKING:
    from harness.sim.console import Console
    from harness.sim.updater import Updater

SERVICE_PROMPT = "recovery> "
BANNER = "SimIoT bootloader v2.1\r\nrecovery: reset button held at power-on: service mode\r\n"
HELP = ("install <url>  write the factory image from <url> (manufacturer-signed, this model only)",
        "version        the installed firmware and the factory image version",
        "boot           leave service mode and boot the installed firmware",
        "help           this list")
FACTORY_BUILD_DATE = "2024-11-04T12:00:00Z"  # fixed: every start writes a byte-identical package


class ServiceMode:
    """One unit's bootloader in service mode, on that unit's serial console."""

    def __init__(self, unit: Unit, console: Console, updater: Updater) -> None:
        self.unit, self.console, self.updater = unit, console, updater
        self.reader = LineReader()
        self._task: asyncio.Task[None] | None = None
        unit.subscribe(self._on_event)

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    def enter(self) -> None:
        """Power came on with the button held (called by the bench supply instead of a boot)."""
        loop = asyncio.get_running_loop()
        self._stop()
        self.reader.discard()
        self.console.port.attach(loop, self.reader.feed)  # the bootloader owns the UART now
        self.console.emit(BANNER + SERVICE_PROMPT)
        self._task = loop.create_task(self._serve())

    def _on_event(self, event: Event) -> None:
        if event is Event.POWER_LOST and self.active:
            self._stop()

    def _stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if not task.done():
            task.cancel()
        self.reader.discard()
        self.console.start(asyncio.get_running_loop())  # the firmware's console has the UART again

    async def _serve(self) -> None:
        while True:
            line = (await self.reader.read_line(True, self.console.port.write)).strip()
            words = line.split()
            if not words:
                self.console.emit(SERVICE_PROMPT)
                continue
            cmd, args = words[0], words[1:]
            if cmd == "boot" and not args:
                self.console.emit("recovery: booting\r\n")
                loop = asyncio.get_running_loop()
                self._task = None  # this task ends here: nothing to cancel
                self.reader.discard()
                self.console.start(loop)
                self.unit.power_on()
                return
            if cmd == "help" and not args:
                out = "\r\n".join(HELP)
            elif cmd == "version" and not args:
                out = f"recovery: installed {self.unit.firmware}, factory image {FIRMWARE}"
            elif cmd == "install" and len(args) == 1:
                out = await self._install(args[0])
            else:
                out = f"recovery: unknown command {line[:40]!r} (try help)"
            self.console.emit(out + "\r\n" + SERVICE_PROMPT)

    async def _install(self, url: str) -> str:
        self.console.emit(f"recovery: fetching {url}\r\n")
        try:
            data = await asyncio.to_thread(fetch, url, source=self.updater.address, trust_ca=self.updater.trust_ca,
                                           user_agent="SimIoT-recovery/2.1")
        except FetchError as exc:
            return f"recovery: fetch failed: {exc}"
        decision = check_factory_image(data, self.updater.trusted, MODEL, FIRMWARE)
        if not decision.accepted or decision.version is None:
            return f"recovery: refused: {decision.reason}"
        self.console.emit(f"recovery: writing {decision.version}\r\n")
        await self.unit.delays.sleep(self.unit.delays.install)
        # Written last, in one step: a power cut during the write keeps what was there. A whole
        # image is written, so an engineering patch of the old one is gone too.
        self.unit.state.firmware = decision.version
        self.unit.restore_software()
        return f"recovery: installed {decision.version}"


def publish_factory_image(run_dir: Path, embedded_secrets: bool = False) -> Path:
    """The factory image (the firmware the units are delivered with), signed with the manufacturer's
    test key that packages.publish wrote first: what a lab gets from the manufacturer for recovery
    (the profile's `updates.delivered`, runtime.json → firmware.delivered)."""
    from harness.firmware import build_package
    from harness.firmware.keys import load_private_key

    folder = run_dir / packages.FIRMWARE_DIR
    key = load_private_key(folder / f"{packages.KEY_NAME}.key")
    data = build_package(packages._payload(FIRMWARE, embedded_secrets), model=MODEL, version=FIRMWARE,  # noqa: SLF001
                         private_key=key, build_date=FACTORY_BUILD_DATE)
    path = folder / f"simiot-h1-{FIRMWARE}.simfw"
    runtime.write_atomic(path, data)
    return path
