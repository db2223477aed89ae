"""Network namespaces as a harness feature: made, isolated, entered, cleaned up; the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.net import netns
from harness.net.netns import Namespace, NamespaceUnavailable, availability

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

if not availability()[0]:
    pytest.skip(f"network namespaces unavailable: {availability()[1]}", allow_module_level=True)


def names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def netns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def test_create_has_only_loopback_up_and_delete_is_idempotent() -> None:
    ns = Namespace.create("harness-t")
    assert ns.name.startswith(f"harness-t-{os.getpid()}-") and ns.name in names()
    links = ns.run(["ip", "-o", "link"], timeout=10, capture_output=True, text=True, check=True).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"] and "UP" in links
    ns.delete()
    ns.delete()
    assert ns.name not in names()
    with pytest.raises(NamespaceUnavailable, match="already deleted"):
        ns.run(["true"], timeout=5)


def test_a_host_listener_is_invisible_inside() -> None:
    host = socket.create_server(("127.0.0.1", 0))
    port = host.getsockname()[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # reachable from the host's namespace
        with Namespace.create("harness-t") as ns, ns.entered():
            probe = socket.socket()
            probe.settimeout(2)
            with pytest.raises(ConnectionRefusedError):
                probe.connect(("127.0.0.1", port))
            probe.close()
    finally:
        host.close()


def test_entered_moves_only_the_block_and_comes_back_on_error() -> None:
    home = netns_inode()
    with Namespace.create("harness-t") as ns:
        with ns.entered():
            inside = netns_inode()
        assert inside != home and netns_inode() == home
        with pytest.raises(RuntimeError), ns.entered():
            raise RuntimeError("boom")
        assert netns_inode() == home


def test_delete_stops_the_processes_it_started() -> None:
    ns = Namespace.create("harness-t")
    proc = ns.popen([sys.executable, "-c", "import time; time.sleep(60)"])
    t0 = time.monotonic()
    ns.delete()
    assert proc.poll() is not None and time.monotonic() - t0 < 5


def test_cli_runs_isolated_and_returns_the_exit_status(capfd: pytest.CaptureFixture[str]) -> None:
    before = names()
    code = netns.main(["run", "--prefix", "harness-cli", "--", "sh", "-c", "ip -o link | wc -l; exit 3"])
    assert code == 3 and capfd.readouterr().out.strip() == "1"
    assert names() == before


def test_cli_timeout(capfd: pytest.CaptureFixture[str]) -> None:
    code = netns.main(["run", "--timeout", "0.3", "--prefix", "harness-cli", "--",
                       sys.executable, "-c", "import time; time.sleep(30)"])
    assert code == 124 and "still running" in capfd.readouterr().err


def test_cli_as_module_and_check() -> None:
    res = subprocess.run([sys.executable, "-m", "harness.net.netns", "run", "--", "ip", "-o", "addr"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and "127.0.0.1/8" in res.stdout and "RuntimeWarning" not in res.stderr
    check = subprocess.run([sys.executable, "-m", "harness.net.netns", "check"], cwd=ROOT,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "available" in check.stdout


def test_not_permitted_is_a_clear_lab_fault() -> None:
    # The same code as an unprivileged user: refused, and the message says why.
    setpriv = "/usr/bin/setpriv"
    if not os.path.exists(setpriv) or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to drop privileges")
    code = ("from harness.net.netns import Namespace, NamespaceUnavailable\n"
            "from harness.verdict import LabFault\n"
            "try:\n    Namespace.create('harness-t')\n"
            "except NamespaceUnavailable as exc:\n    print(isinstance(exc, LabFault), exc)\n")
    res = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps=-all",
                          sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert res.stdout.startswith("True cannot create network namespace"), res.stdout + res.stderr
    assert "root / CAP_SYS_ADMIN" in res.stdout
