"""The SimIoT bench's service jig: powers a unit up with its reset button held, so that its
bootloader stays in service mode (harness.sim.recovery). A lab tool for a profile's `bench.run`
step, the kind a manufacturer ships with a recovery procedure:

    tools/service-jig UNIT

The simulator writes the launcher into its run directory (beside lab.yaml, so the profile's
relative path `./tools/service-jig` finds it) with each unit's supply resource filled in. Over the
supply's SCPI socket: button line closed, output off, output on, button line released, error
queue read. Prints what the supply confirmed; exit 0 when it confirmed every step, 1 when it
reported something else, 2 on bad usage or no connection.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

TOOL = Path("tools") / "service-jig"
BUTTON = 1  # relay channel wired across the reset button (harness.sim.supply.BUTTON_CHANNEL)


def _ask(sock: socket.socket, reader: object, text: str) -> str:
    sock.sendall(text.encode())
    return reader.readline().decode(errors="replace").strip()  # type: ignore[attr-defined]


def main(argv: list[str], supplies: dict[str, str]) -> int:
    if len(argv) != 1 or argv[0] not in supplies:
        print(f"usage: service-jig UNIT   (UNIT: {', '.join(sorted(supplies))})", file=sys.stderr)
        return 2
    resource = supplies[argv[0]]
    parts = resource.split("::")
    try:
        with socket.create_connection((parts[1], int(parts[2])), timeout=5) as sock:
            reader = sock.makefile("rb")
            # Each query is answered once the supply has carried out the commands before it.
            held = _ask(sock, reader, f"ROUT:CLOS (@{BUTTON})\nROUT:CLOS? (@{BUTTON})\n")
            off = _ask(sock, reader, "OUTP OFF\nOUTP?\n")
            on = _ask(sock, reader, "OUTP ON\nOUTP?\n")
            released = _ask(sock, reader, f"ROUT:OPEN (@{BUTTON})\nROUT:CLOS? (@{BUTTON})\n")
            errors = _ask(sock, reader, "SYST:ERR?\n")
    except (OSError, IndexError, ValueError) as exc:
        print(f"supply {resource}: {exc}", file=sys.stderr)
        return 2
    print(f"{argv[0]}: button {'held' if held == '1' else held}, output {off} then {on}, "
          f"button {'released' if released == '0' else released}; supply errors: {errors}")
    confirmed = (held, off, on, released, errors) == ("1", "0", "1", "0", '0,"No error"')
    if confirmed:
        print(f"{argv[0]}: powered up with the reset button held: service mode")
    return 0 if confirmed else 1


def publish(run_dir: Path, supplies: dict[str, str]) -> Path:
    """Write the launcher (this interpreter, these units' supplies) into the run directory."""
    path = run_dir / TOOL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n"
                    "# The SimIoT bench's service jig, written by the simulator (harness.sim.jig).\n"
                    "import sys\n\nfrom harness.sim.jig import main\n\n"
                    f"sys.exit(main(sys.argv[1:], {json.dumps(supplies)}))\n", encoding="utf-8")
    os.chmod(path, 0o755)
    return path
