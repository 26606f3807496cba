"""A zipped mesh export (OBJ + MTL + texture) goes through an import job with the mesh
options (``origin``, ``up``) as form fields; without a CRS the job fails ``crs_required``;
``twin import`` takes the mesh's MTL and texture along and keeps the mesh options."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from twin import cli
from twin.settings import Settings
from twin.store import Store

from .conftest import drain, upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meshes"


def zipped_export() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("house.obj", "house.mtl", "facade.png"):
            zf.write(FIXTURES / name, f"Production_1/{name}")
    return buf.getvalue()


def test_zipped_obj_upload_with_origin_converts(
    gis: TestClient, store: Store, settings: Settings
) -> None:
    r = upload(
        gis,
        "mesh",
        zipped_export(),
        filename="export.zip",
        crs="EPSG:3006",
        origin="361000 6214000 20",
        up="z",
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert drain(store, settings) == 1
    done = gis.get(f"/api/imports/{job['id']}").json()
    assert done["state"] == "succeeded", done
    report = done["report"]
    assert report["format"] == "OBJ mesh"
    assert report["feature_count"] == 2
    assert report["types"] == {"Mesh": 2}
    assert any("from --origin" in w for w in report["warnings"])
    w, s, e, n = report["extent"]
    assert 12.6 < w < e < 12.8
    assert 56.0 < s < n < 56.1


def test_mesh_without_crs_fails_and_bad_fields_are_refused(
    gis: TestClient, store: Store, settings: Settings
) -> None:
    job = upload(gis, "mesh", zipped_export(), filename="export.zip").json()
    drain(store, settings)
    done = gis.get(f"/api/imports/{job['id']}").json()
    assert done["state"] == "failed"
    assert "crs_required" in str(done), done
    for fields in ({"origin": "1 2"}, {"origin": "a b c"}, {"up": "x"}, {"mesh_scale": "-1"}):
        r = upload(gis, "mesh", zipped_export(), filename="export.zip", crs="EPSG:3006", **fields)
        assert r.status_code == 422, (fields, r.text)
        assert r.json()["code"] == "invalid_request"


def test_cli_import_keeps_the_mesh_options(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "import", str(FIXTURES / "house.obj"), "--layer", "house"]
    mesh = ["--crs", "EPSG:3006", "--origin", "361000", "6214000", "20", "--up", "z"]
    assert cli.main([*args, *mesh]) == 0
    out = capsys.readouterr()
    assert "house.obj: 2 objects" in out.out
    assert "not found" not in out.err  # the MTL and its texture came along
    store = Store(data)
    version = store.get("house").current_version
    assert version.options["origin"] == [361000.0, 6214000.0, 20.0]
    assert version.options["up"] == "z"
    # the same file and options again: nothing to do
    assert cli.main([*args, *mesh, "--if-changed"]) == 0
    assert "up to date" in capsys.readouterr().out
