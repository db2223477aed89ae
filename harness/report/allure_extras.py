"""What the Allure results need besides the per-test files, and rendering them with Allure 3.

Allure 3 is a Node package (no Java). It is run through ``npx`` at a pinned version, so a lab
without Node still gets every other report: ``render_allure_html`` reports why it did not render
and never raises.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

from harness.report._text import write_atomic
from harness.report.model import ReportModel

ALLURE_PACKAGE = "allure@3.18.0"
ENVIRONMENT_NAME = "environment.properties"
CATEGORIES_NAME = "categories.json"
DEFAULT_TIMEOUT_S = 300.0

CATEGORIES = [
    {"name": "Device defect (FAIL)", "matchedStatuses": ["failed"],
     "description": "The device was judged and does not meet the provision."},
    {"name": "Lab fault (INCONCLUSIVE)", "matchedStatuses": ["broken"],
     "description": "The lab could not judge the device (link, instrument or harness fault); not a defect."},
    {"name": "Not applicable / pending review", "matchedStatuses": ["skipped"],
     "description": "The provision does not apply to this product, or an assessor must judge the evidence."},
]


def _escape_property(text: str, *, key: bool) -> str:
    """Java .properties escaping, ASCII only (\\uXXXX for the rest), as Allure's reader expects."""
    out = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\f":
            out.append("\\f")
        elif ch in "=:#!" or (ch == " " and (key or i == 0)):
            out.append("\\" + ch)
        elif code < 0x20 or code > 0x7E:
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def environment_properties(model: ReportModel) -> dict[str, str]:
    run = model.run
    product = run.product
    name = " ".join(str(product[k]) for k in ("manufacturer", "model") if product.get(k))
    return {
        "product": name or "unknown",
        "hardware": str(product.get("hardware", "")),
        "firmware": str(product.get("firmware", "")),
        "profile.sha256": run.profile_sha256,
        "harness.version": run.harness_version,
        "units": ", ".join(run.units),
        "run.id": run.run_id,
        "lab": str(run.lab.get("name", "")),
        "results.sha256": run.results_sha256,
        "standard": f"EN 303 645 {run.catalogue}" if run.catalogue else "",
    }


def write_allure_environment(allure_dir: str | Path, model: ReportModel) -> Path:
    lines = [f"{_escape_property(k, key=True)}={_escape_property(v, key=False)}"
             for k, v in environment_properties(model).items()]
    return write_atomic(Path(allure_dir) / ENVIRONMENT_NAME, "\n".join(lines) + "\n")


def write_allure_categories(allure_dir: str | Path) -> Path:
    return write_atomic(Path(allure_dir) / CATEGORIES_NAME, json.dumps(CATEGORIES, indent=2) + "\n")


def allure_command(npx: str, results_dir: Path, out_dir: Path, package: str = ALLURE_PACKAGE) -> list[str]:
    return [npx, "--yes", package, "generate", str(results_dir), "-o", str(out_dir)]


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def render_allure_html(allure_results_dir: str | Path, out_dir: str | Path, timeout: float = DEFAULT_TIMEOUT_S,
                       package: str = ALLURE_PACKAGE) -> tuple[bool, str]:
    """Render ``out_dir`` from ``allure_results_dir`` with Allure 3; (ok, what happened). Never raises."""
    try:
        return _render(Path(allure_results_dir), Path(out_dir), timeout, package)
    except Exception as exc:  # the other reports matter more than this one
        return False, f"Allure rendering failed: {type(exc).__name__}: {exc}"


def _render(results: Path, out: Path, timeout: float, package: str) -> tuple[bool, str]:
    npx, node = shutil.which("npx"), shutil.which("node")
    if not npx or not node:
        return False, "Node.js (node and npx) not found: the Allure HTML report was not rendered"
    if not results.is_dir() or not any(results.glob("*-result.json")):
        return False, f"no Allure results in {results}: nothing to render"
    cmd = allure_command(npx, results.resolve(), out.resolve(), package)
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "CI": "true"}
    # Own process group: on timeout npx and the node process it started are ended together.
    proc = subprocess.Popen(cmd, cwd=str(results.resolve().parent), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", env=env, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate(timeout=10)
        return False, f"Allure rendering timed out after {timeout:g} s: {' '.join(cmd)}"
    if proc.returncode != 0:
        return False, f"Allure exited with {proc.returncode}: {_tail(output)}"
    # allure generate exits 0 even when it found nothing to read, so check what it wrote.
    if not (out / "index.html").is_file():
        return False, f"Allure wrote no index.html: {_tail(output)}"
    return True, f"Allure report written to {out / 'index.html'}"
