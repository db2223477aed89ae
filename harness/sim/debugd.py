"""The factory debug shell left in legacy firmware (behaviour `debug_shell`): a root shell on TCP
port 4444 of the unit's address, no authentication, not in the product's documentation. Raw TCP
(the client echoes), LF line ends, a handful of busybox commands."""

from __future__ import annotations

from harness.sim.catalog import KERNEL
from harness.sim.tcpshell import Connection, TcpShellServer

BANNER = "\nBusyBox v1.31.1 (2023-02-14 09:12:44 UTC) built-in shell (ash)\n\n"
PROMPT = "# "
PASSWD = ("root:x:0:0:root:/root:/bin/sh", "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
          "admin:x:1000:1000:admin:/home/admin:/bin/sh")
COMMANDS = {
    "id": "uid=0(root) gid=0(root) groups=0(root)",
    "whoami": "root",
    "pwd": "/",
    "ls": "bin   dev   etc   home  lib   proc  root  sbin  sys   tmp   usr   var",
    "uname": "Linux",
    "uname -a": f"Linux simiot {KERNEL} #1 SMP PREEMPT armv7l GNU/Linux",
    "cat /etc/passwd": "\n".join(PASSWD),
    "cat /proc/version": f"Linux version {KERNEL} (builder@simiot) #1 SMP PREEMPT",
    "ps": "  PID USER       VSZ STAT COMMAND\n    1 root      1520 S    init\n  212 root      2100 S    simiotd\n"
          "  251 root      1180 S    nc -ll -p 4444 -e /bin/sh",
}


class DebugShellServer(TcpShellServer):
    echo = False
    name = "debug"

    def greeting(self) -> bytes:
        return (BANNER + PROMPT).encode()

    async def session(self, conn: Connection) -> None:
        while True:
            line = " ".join((await conn.read_line()).split())
            if line in ("exit", "logout"):
                return
            if line:
                out = COMMANDS.get(line)
                conn.emit((out if out is not None else f"/bin/sh: {line.split()[0]}: not found") + "\n")
            conn.emit(PROMPT)
