"""The output options through the CLI (``--no-compression``, ``--tiles-version``) and the
import API (``compression``, ``tiles_version`` form fields)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from glbtools import Glb, load_tileset
from jobs.conftest import (  # noqa: F401  (fixtures)
    app,
    cheap_hasher,
    client_for,
    drain,
    gis,
    settings,
    store,
    upload,
)
from test_cli import twin

from tiles.validate import check_tileset
from twin.settings import Settings
from twin.store import Store

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "fixtures" / "cityjson" / "3dbag_b2.city.json"


def test_cli_writes_1_0_without_compression(tmp_path: Path) -> None:
    r = twin(
        "convert", SMALL, "--out", tmp_path / "o", "--tiles-version", "1.0", "--no-compression"
    )
    assert r.returncode == 0, r.stderr
    tileset, glbs = load_tileset(tmp_path / "o", parents=True)
    assert tileset["asset"]["version"] == "1.0"
    assert glbs
    for glb in glbs:
        assert glb.feature_table["BATCH_LENGTH"] >= 1
        assert "extensionsUsed" not in glb.json  # no quantisation either
    assert check_tileset(tmp_path / "o" / "tileset.json") == []


def test_cli_compresses_by_default(tmp_path: Path) -> None:
    r = twin("convert", SMALL, "--out", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    tileset, glbs = load_tileset(tmp_path / "o")
    assert tileset["asset"]["version"] == "1.1"
    assert all("KHR_mesh_quantization" in g.json["extensionsRequired"] for g in glbs)
    assert not any("EXT_meshopt_compression" in g.json["extensionsRequired"] for g in glbs)
    bad = twin("convert", SMALL, "--out", tmp_path / "p", "--tiles-version", "2.0")
    assert bad.returncode == 2
    assert "--tiles-version" in bad.stderr


def test_import_api_takes_the_output_fields(
    gis: TestClient,  # noqa: F811
    store: Store,  # noqa: F811
    settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    r = upload(gis, "old", SMALL, tiles_version="1.0", compression=False, auto_publish=True)
    assert r.status_code == 202, r.text
    drain(store, settings)
    job = gis.get(r.json()["urls"]["self"]).json()
    assert job["state"] == "published", job
    tileset = gis.get("/tiles/old/tileset.json").json()
    assert tileset["asset"]["version"] == "1.0"
    uri = tileset["root"]["content"]["uri"] if "content" in tileset["root"] else None
    uri = uri or tileset["root"]["children"][0]["content"]["uri"]
    assert uri.endswith(".b3dm")
    tile = gis.get(f"/tiles/old/{uri}")
    assert tile.status_code == 200
    path = tmp_path / "from-api.b3dm"
    path.write_bytes(tile.content)
    assert Glb(path).feature_table["BATCH_LENGTH"] >= 1
    for value, field in (("2.0", "tiles_version"), ("maybe", "compression")):
        bad = upload(gis, "old", SMALL, **{field: value})
        assert bad.status_code == 422, bad.text  # invalid_request
        assert field in json.dumps(bad.json())


def test_cli_import_keeps_the_output_options() -> None:
    """``twin import`` queues its options as JSON; the worker rebuilds them from it."""
    from tiles import ConvertOptions
    from twin.store import options_json

    given = ConvertOptions(tiles_version="1.0", compression=False)
    rebuilt = ConvertOptions(**options_json(given))
    assert (rebuilt.tiles_version, rebuilt.compression) == ("1.0", False)
    assert options_json(ConvertOptions()) == {"crs": None, "lod": None, "axis_order": None}
