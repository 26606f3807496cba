"""A LAS/LAZ upload goes through an import job like any export: converted in the worker's
child process, checked, published, its ``pnts`` tiles served; a LAS without a CRS fails
with ``crs_missing`` and publishes nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from points_tools import synthetic, write_las

from twin import cli
from twin.settings import Settings
from twin.store import Store

from .conftest import drain, upload

HELSINGBORG = (356_750.0, 6_214_030.0, 20.0)


def _contents(tile: dict) -> list[str]:
    out = [tile["content"]["uri"]] if "content" in tile else []
    for child in tile.get("children", []):
        out += _contents(child)
    return out


def test_laz_upload_converts_and_serves_pnts(
    gis: TestClient, anon: TestClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    cloud = synthetic(*HELSINGBORG, side=80)
    laz = write_las(tmp_path / "scan.laz", cloud, "EPSG:3006")
    r = upload(gis, "lidar", laz, filename="scan.laz", title="Lidar", drop_outliers=True)
    assert r.status_code == 202, r.text
    job = r.json()
    assert drain(store, settings) == 1
    done = gis.get(f"/api/imports/{job['id']}").json()
    assert done["state"] == "succeeded", done
    report = done["report"]
    assert report["point_count"] == len(cloud.xyz)
    assert report["format"] == "LAZ 1.2"
    assert report["points"]["crs_record"] == "GeoKeys"
    assert report["points"]["outliers_dropped"] == 0
    assert gis.post(f"/api/imports/{job['id']}/publish").status_code == 200
    url = anon.get("/api/layers").json()[0]["tileset_url"]
    tileset = anon.get(url).json()
    base = url.rsplit("/", 1)[0]
    uris = _contents(tileset["root"])
    assert uris
    for uri in uris[:3]:
        tile = anon.get(f"{base}/{uri}")
        assert tile.status_code == 200
        assert tile.content[:4] == b"pnts"
        assert tile.headers["content-type"] == "application/octet-stream"


def test_las_without_crs_fails_the_job(
    gis: TestClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    las = write_las(tmp_path / "nocrs.las", synthetic(*HELSINGBORG, side=10), None)
    job = upload(gis, "lidar", las, filename="nocrs.las").json()
    drain(store, settings)
    done = gis.get(f"/api/imports/{job['id']}").json()
    assert done["state"] == "failed"
    assert "crs_missing" in str(done), done
    assert gis.get("/api/layers").json() == []
    # The same file with the CRS given converts.
    job = upload(gis, "lidar", las, filename="nocrs.las", crs="EPSG:3006").json()
    drain(store, settings)
    assert gis.get(f"/api/imports/{job['id']}").json()["state"] == "succeeded"


def test_cli_convert_and_import(tmp_path: Path, capsys) -> None:
    las = write_las(tmp_path / "scan.las", synthetic(*HELSINGBORG, side=30), "EPSG:3006")
    assert cli.main(["convert", str(las), "--out", str(tmp_path / "out")]) == 0
    line = capsys.readouterr().out
    assert "scan.las: 900 points," in line
    assert "EPSG:3006" in line
    data = tmp_path / "data"
    code = cli.main(["--data-dir", str(data), "import", str(las), "--layer", "lidar"])
    assert code == 0
    assert "900 points" in capsys.readouterr().out
    assert cli.main(["--data-dir", str(data), "layers"]) == 0
    assert "lidar\tlidar\t900 points\tEPSG:3006" in capsys.readouterr().out
    nocrs = write_las(tmp_path / "nocrs.las", synthetic(*HELSINGBORG, side=5), None)
    assert cli.main(["convert", str(nocrs), "--out", str(tmp_path / "o2")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("twin: error: nocrs.las: ")
    assert err[0].endswith("[crs_missing]")
