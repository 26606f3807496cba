"""`twin sensors run`: the demo replay in its own process, and unusable settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from layers.sensors.models import Datastream, Observation
from twin.cli import main
from twin.db import Database


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env.update(extra)
    return env


def test_twin_sensors_run_replays_until_terminated(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cmd = [sys.executable, "-m", "twin", "--data-dir", str(data_dir), "sensors", "run"]
    proc = subprocess.Popen(
        cmd,
        env=_env(TWIN_REPLAY="true", TWIN_REPLAY_SPEED="120"),
        stderr=subprocess.PIPE,
        text=True,
    )
    db = None
    try:
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if (data_dir / "twin.db").exists():
                db = db or Database(f"sqlite:///{(data_dir / 'twin.db').resolve()}")
                try:
                    with db.session() as s:
                        count = s.scalar(select(func.count()).select_from(Observation)) or 0
                except Exception:  # the schema is still being created
                    count = 0
                if count >= 4 * 583:  # the backfill: one loop of the recorded day
                    break
            time.sleep(0.2)
        assert count >= 4 * 583
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "replay stopped: received" in err
        assert db is not None
        with db.session() as s:
            keys = set(s.scalars(select(Datastream.key).where(Datastream.replay.is_(True))))
        assert keys == {
            "aberdeen-5331-pm10",
            "aberdeen-5331-pm25",
            "aberdeen-5332-temperature",
            "aberdeen-5332-humidity",
        }
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if db is not None:
            db.dispose()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TWIN_MQTT_URL": "http://broker"}, "mqtt:// or mqtts://"),
        ({"TWIN_MQTT_MAPPINGS": "m.toml"}, "TWIN_MQTT_URL is not"),
        ({"TWIN_MQTT_URL": "mqtt://localhost", "TWIN_MQTT_MAPPINGS": "nope.toml"}, "cannot read"),
        ({"TWIN_STA_URLS": "ftp://x/v1.1"}, "not an http(s) URL"),
    ],
)
def test_unusable_settings_exit_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    message: str,
) -> None:
    for name in [k for k in os.environ if k.startswith("TWIN_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["--data-dir", str(tmp_path / "d"), "sensors", "run"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert message in err
    assert "Traceback" not in err


def test_nothing_configured_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [k for k in os.environ if k.startswith("TWIN_")]:
        monkeypatch.delenv(name)
    assert main(["--data-dir", str(tmp_path / "d"), "sensors", "run"]) == 0
    assert "no source configured" in capsys.readouterr().err
