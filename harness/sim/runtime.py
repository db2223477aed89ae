"""Files the simulator publishes in its run directory, each written atomically (temp + replace)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RUNTIME = "runtime.json"
SECRETS = "secrets.json"
CA = "lab-ca.pem"


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)  # the umask must not widen or narrow what was asked
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any, mode: int = 0o644) -> None:
    write_atomic(path, (json.dumps(obj, indent=2) + "\n").encode(), mode)


def write_secrets(run_dir: Path, secrets: dict[str, str]) -> Path:
    """secrets.json, readable by the lab user only (it holds the units' label passwords)."""
    path = run_dir / SECRETS
    write_json(path, secrets, mode=0o600)
    return path


def publish_secrets(run_dir: Path, labels: dict[str, str]) -> Path:
    return write_secrets(run_dir, {f"SIM_{uid}_LABEL": label for uid, label in labels.items()})


def publish_runtime(run_dir: Path, facts: dict[str, Any]) -> Path:
    """Last step of start-up: its appearance is the readiness signal."""
    path = run_dir / RUNTIME
    write_json(path, facts)
    return path


def withdraw_runtime(run_dir: Path) -> None:
    (run_dir / RUNTIME).unlink(missing_ok=True)
