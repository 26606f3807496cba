"""A real ``twin`` as child processes, and the headless Chromium that looks at it: shared by
the browser tests (tests/e2e/conftest.py), the viewer benchmark (bench/bench_viewer_load.py)
and the documentation's screenshots (docs/screenshots/capture.py). No pytest here: the
callers turn :class:`ServerFailed` into a test failure or an exit message.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"
#: Debian's Chromium, headless on the CPU (SwiftShader), never phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ServerFailed(RuntimeError):
    """The server exited or did not answer /healthz in time (the message has its log)."""


def chromium_path() -> tuple[str | None, str]:
    """(the Chromium executable or None, where it was looked for); TWIN_CHROMIUM overrides."""
    path = os.environ.get("TWIN_CHROMIUM", "/usr/bin/chromium")
    found = shutil.which(path) or (path if os.access(path, os.X_OK) else None)
    return found, path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_twin(
    data_dir: Path,
    *args: str,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    **kw: Any,
) -> Any:
    """``twin`` as a child process; ``env``: settings (TWIN_...) besides the environment.
    Without ``log`` it runs to the end (a CompletedProcess with text output); with ``log``
    it is started (a Popen) with its output going there."""
    cmd = [sys.executable, "-m", "twin", "--data-dir", str(data_dir), *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if log is None:
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, **kw)
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    """Until ``url``/healthz answers 200; :class:`ServerFailed` when the process exits first
    or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"the server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)  # polling the server's own health check, not waiting for time
    raise ServerFailed(f"the server did not answer /healthz within {seconds:g} s:\n{_tail(log)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""
