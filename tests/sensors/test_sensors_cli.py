"""`twin sensors`: sources with keys shown once, rotation, revocation, retention."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from layers.sensors import keys
from layers.sensors.models import IngestSource
from twin.cli import main
from twin.db import Database
from twin.settings import Settings


def _run(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), "sensors", *args])


def test_sources_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert _run(data, "sources", "add", "gateway", "--organisation", "1283") == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("tws_")
    assert len(key) > 40
    db = Database(Settings(data_dir=data).database)
    try:
        with db.session() as s:
            row = s.scalars(select(IngestSource)).one()
            assert key not in (row.key_hash, row.name)  # only the hash is kept
            assert keys.authenticate(s, key).name == "gateway"
        assert _run(data, "sources", "add", "gateway", "--organisation", "1283") != 0
        assert "exists" in capsys.readouterr().err
        assert _run(data, "sources", "add", "x", "--organisation", "0000") != 0
        assert (
            _run(data, "sources", "add", "y", "--organisation", "1283", "--datastream", "nope") != 0
        )
        capsys.readouterr()
        assert _run(data, "sources", "list") == 0
        listed = capsys.readouterr().out
        assert "gateway\t1283\tactive" in listed
        assert key not in listed
        assert _run(data, "sources", "rotate", "gateway") == 0
        new_key = capsys.readouterr().out.strip()
        assert new_key != key
        with db.session() as s:
            assert keys.authenticate(s, new_key).name == "gateway"
            with pytest.raises(keys.IngestKeyInvalid):
                keys.authenticate(s, key)
        assert _run(data, "sources", "revoke", "gateway") == 0
        with db.session() as s, pytest.raises(keys.IngestKeyInvalid):
            keys.authenticate(s, new_key)
        assert _run(data, "sources", "rotate", "missing") != 0
        assert _run(data, "prune") == 0
        assert "retention is off" in capsys.readouterr().out
        assert _run(data, "prune", "--days", "30") == 0
        assert "deleted 0 observation(s)" in capsys.readouterr().out
    finally:
        db.dispose()
