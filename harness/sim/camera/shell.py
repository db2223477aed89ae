"""The camera's BusyBox dialogue, shared by the UART, telnetd and sshd: `login` and the ash
shell with the firmware's own tools (camcfg, factory-reset)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Protocol

from harness.sim.camera import model
from harness.sim.camera.model import ADMIN, HOSTNAME
from harness.sim.unit import PasswdOutcome

if TYPE_CHECKING:
    from harness.sim.camera.cloud import CloudClient
    from harness.sim.camera.unit import CameraUnit

LOGIN_PROMPT = f"{HOSTNAME} login: "
PASSWORD_PROMPT = "Password: "
INCORRECT = "Login incorrect"
MOTD = "\r\nBusyBox v1.31.1 (2024-09-03 11:02:17 CST) built-in shell (ash)\r\n\r\n"
MAX_LINES = 100_000  # commands per session; a session that long is a runaway client
IDS = {"root": "uid=0(root) gid=0(root) groups=0(root)",
       ADMIN: "uid=1000(admin) gid=1000(admin) groups=1000(admin),44(video)",
       model.SUPPORT: "uid=1001(support) gid=1001(support) groups=1001(support),44(video)"}
HELP = ("Built-in commands and tools:", "  id  cat /etc/version  uptime  passwd  camcfg  cloud [reconnect]  reboot  factory-reset  exit",
        "camcfg usage: camcfg list | camcfg get KEY | camcfg set KEY VALUE")


class Terminal(Protocol):
    async def read_line(self, echo: bool = True) -> str: ...

    def emit(self, text: str) -> None: ...


def prompt(user: str) -> str:
    return "~ # " if user == "root" else "~ $ "


def version_file() -> str:
    return (f"LUMACAM_MODEL={model.MODEL}\r\nLUMACAM_FW_VERSION={model.FIRMWARE}\r\n"
            f"LUMACAM_BUILD={model.BUILD}\r\nLUMACAM_HW={model.HARDWARE}\r\n")


async def login(unit: CameraUnit, term: Terminal, surface: str, attempts: int | None) -> str | None:
    """BusyBox login: the user name logged in, or None after `attempts` failures (None: no limit).
    The last failure of a limited run prints nothing: the caller hangs up."""
    failures = 0
    while attempts is None or failures < attempts:
        user = (await term.read_line(echo=True)).strip()
        if not user:
            term.emit(LOGIN_PROMPT)
            continue
        term.emit(PASSWORD_PROMPT)
        password = await term.read_line(echo=False)
        outcome = await unit.login_on(surface, user, password)
        if outcome.ok:
            return user
        failures += 1
        if attempts is not None and failures >= attempts:
            return None
        term.emit(f"\r\n{INCORRECT}\r\n{LOGIN_PROMPT}")
    return None


class Shell:
    """ash for one logged-in user. `run()` returns when the user leaves or the unit goes down."""

    def __init__(self, unit: CameraUnit, term: Terminal, user: str, cloud: CloudClient | None) -> None:
        self.unit = unit
        self.term = term
        self.user = user
        self.cloud = cloud

    async def run(self) -> None:
        for _ in range(MAX_LINES):
            line = await self.term.read_line()
            if not await self.run_line(line):
                return

    def _out(self, *lines: str) -> None:
        self.term.emit("".join(f"{line}\r\n" for line in lines))

    async def run_line(self, line: str, prompt_after: bool = True) -> bool:
        """One command; False when the session is over. `prompt_after` off: a command given to
        sshd (`ssh cam id`) ends without a prompt."""
        try:
            argv = shlex.split(line)
        except ValueError:
            self._out("-sh: syntax error: unterminated quoted string")
            argv = ["true"]
        cmd = argv[0] if argv else ""
        if cmd in ("exit", "logout"):
            return False
        if cmd == "reboot":
            self._out("The system is going down NOW!", "Requesting system reboot")
            self.unit.reboot()
            return False
        if cmd == "factory-reset":
            if self.user not in ("root", ADMIN):
                self._out("factory-reset: permission denied")
            else:
                self._out("factory-reset: erasing /mnt/config, restoring factory settings", "Requesting system reboot")
                self.unit.factory_reset()
                return False
        elif cmd == "passwd":
            await self._passwd(argv[1:])
        elif cmd:
            self._out(*self._command(cmd, argv[1:]))
        if prompt_after:
            self.term.emit(prompt(self.user))
        return True

    def _command(self, cmd: str, args: list[str]) -> list[str]:
        if cmd in ("", "true"):
            return []
        if cmd == "id":
            return [IDS.get(self.user, IDS[ADMIN])]
        if cmd == "cat" and args == ["/etc/version"]:
            return version_file().rstrip("\r\n").split("\r\n")
        if cmd == "uptime":
            return [f" up {int(self.unit.uptime())} s,  load average: 0.08, 0.05, 0.01"]
        if cmd in ("help", "busybox"):
            return list(HELP)
        if cmd == "camcfg":
            return self._camcfg(args)
        if cmd == "cloud":
            if self.cloud is None:
                return ["cloud: disabled"]
            if args[:1] == ["reconnect"]:
                self.cloud.reconnect()
                return ["cloud: reconnecting"]
            return [self.cloud.status()]
        return [f"-sh: {cmd}: not found"]

    def _camcfg(self, args: list[str]) -> list[str]:
        if args[:1] == ["list"]:
            return [f"{k}={'********' if k == 'wifi_psk' and v else v}" for k, v in self.unit.settings().items()]
        if len(args) == 2 and args[0] == "get":
            value = self.unit.settings().get(args[1])
            return [f"camcfg: unknown key {args[1]}"] if value is None else [f"{args[1]}={value}"]
        if len(args) >= 2 and args[0] == "set":
            error = self.unit.set_setting(args[1], " ".join(args[2:]))
            return [f"camcfg: {error}"] if error else ["OK"]
        return [HELP[2]]

    async def _passwd(self, args: list[str]) -> None:
        user = args[0] if args else self.user
        if user != self.user and self.user != "root":
            self._out("passwd: permission denied")
            return
        self._out(f"Changing password for {user}")
        current = ""
        if self.user != "root":
            self.term.emit("Old password: ")
            current = await self.term.read_line(echo=False)
            self.term.emit("\r\n")
        self.term.emit("New password: ")
        new = await self.term.read_line(echo=False)
        self.term.emit("\r\nRetype password: ")
        retyped = await self.term.read_line(echo=False)
        self.term.emit("\r\n")
        if self.user == "root" and user == ADMIN:
            current = self.unit.state.password  # root needs no old password
        outcome = self.unit.change_password_of(user, current, new, retyped)
        if outcome is PasswdOutcome.UPDATED:
            self._out(f"passwd: password for {user} changed by {self.user}")
        elif outcome is PasswdOutcome.AUTH_ERROR:
            self._out("passwd: incorrect password")
        elif outcome is PasswdOutcome.MISMATCH:
            self._out("passwd: passwords don't match")
        else:
            self._out(str(outcome))
