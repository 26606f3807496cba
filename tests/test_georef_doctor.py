"""The georeferencing doctor: Swedish systems, units, geoid grids, ground at the ellipsoid.

Each case writes a one-building CityJSON in the CRS under test, converts it and checks
where the vertices land against pyproj's own answer (within 1 cm), or what the report
says about units and heights.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from glbtools import load_tileset, root_transform
from pyproj import CRS, Transformer
from test_convert import check_conversion

from tiles import ConvertOptions, convert

REPO = Path(__file__).resolve().parents[1]


def _building(path: Path, x: float, y: float, z0: float, crs_url: str | None) -> Path:
    """A 10 x 8 x 12 box (a Solid with six faces) with its first corner at (x, y, z0)."""
    corners = [
        (0, 0, 0), (10, 0, 0), (10, 8, 0), (0, 8, 0),
        (0, 0, 12), (10, 0, 12), (10, 8, 12), (0, 8, 12),
    ]  # fmt: skip
    faces = [[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]]
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001, 0.001, 0.001], "translate": [x, y, z0]},
        "metadata": {"referenceSystem": crs_url} if crs_url else {},
        "CityObjects": {
            "b1": {
                "type": "Building",
                "attributes": {"name": "box"},
                "geometry": [{"type": "Solid", "lod": "1", "boundaries": [[[f] for f in faces]]}],
            }
        },
        "vertices": [[cx * 1000, cy * 1000, cz * 1000] for cx, cy, cz in corners],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _inside(code: int) -> tuple[float, float]:
    """Easting and northing of the centre of the CRS's area of use."""
    crs = CRS.from_epsg(code)
    aou = crs.area_of_use
    assert aou is not None
    lon, lat = (aou.west + aou.east) / 2, (aou.south + aou.north) / 2
    e, n = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return float(e), float(n)


# SWEREF 99 TM and the twelve local SWEREF 99 zones (Helsingborg: 13 30, EPSG:3008).
SWEDISH = [3006, *range(3007, 3019)]


@pytest.mark.parametrize("code", SWEDISH)
def test_swedish_systems_land_within_a_centimetre(tmp_path: Path, code: int) -> None:
    e, n = _inside(code)
    # CityJSON is always easting first, although SWEREF 99 declares northing first.
    src = _building(tmp_path / "b.city.json", e, n, 20.0, None)
    crs = f"EPSG:{code}"
    report = check_conversion(src, tmp_path / "out", ConvertOptions(crs=crs), crs, "xy")
    assert report["report"].crs == crs


@pytest.mark.parametrize(
    ("crs_text", "horizontal"),
    [
        ("urn:ogc:def:crs,crs:EPSG::3006,crs:EPSG::5613", 3006),  # SWEREF 99 TM + RH 2000
        ("urn:ogc:def:crs,crs:EPSG::3008,crs:EPSG::5613", 3008),  # SWEREF 99 13 30 + RH 2000
        ("EPSG:5845", 3006),  # the same compound by its own code
    ],
)
def test_rh2000_compounds(tmp_path: Path, crs_text: str, horizontal: int) -> None:
    e, n = _inside(horizontal)
    src = _building(tmp_path / "b.city.json", e, n, 35.0, None)
    report = convert(src, tmp_path / "out", ConvertOptions(crs=crs_text))
    assert report.height_method in ("geoid", "as-ellipsoidal")
    if report.height_method == "as-ellipsoidal":  # no SWEN17 grid: say so, by name
        assert "SWEN17_RH2000" in report.height_note
        assert any("SWEN17_RH2000" in w for w in report.warnings)
        # ... and the heights are kept as they are.
        assert report.height_range[0] == pytest.approx(35.0, abs=0.01)
    check_conversion(src, tmp_path / "out2", ConvertOptions(crs=crs_text), crs_text, "xy")


def test_feet_heights_become_metres(tmp_path: Path) -> None:
    """NAD83 / New York Long Island (ftUS): a 2D projected CRS in feet has its z in feet."""
    e, n = _inside(2263)
    src = _building(tmp_path / "b.city.json", e, n, 100.0, None)
    report = convert(src, tmp_path / "out", ConvertOptions(crs="EPSG:2263"))
    ft = 1200 / 3937
    assert report.units == "US survey foot"
    assert "US survey foot" in report.height_note
    assert report.height_range[0] == pytest.approx(100 * ft, abs=0.001)
    assert report.height_range[1] == pytest.approx(112 * ft, abs=0.001)
    # Horizontal placement is pyproj's; heights are the feet converted to metres.
    tileset, glbs = load_tileset(tmp_path / "out")
    mine = np.concatenate([g.ecef_positions(root_transform(tileset)) for g in glbs])
    lon, lat = Transformer.from_crs("EPSG:2263", "EPSG:4326", always_xy=True).transform(
        e + 10.0, n + 8.0
    )
    want = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(
        lon, lat, 112 * ft
    )
    assert np.linalg.norm(mine - np.array(want), axis=1).min() < 0.01


def test_feet_compound_agrees_with_pyproj(tmp_path: Path) -> None:
    """NAD83 / NY Long Island + NAVD88 height (ftUS): pyproj converts the vertical unit."""
    e, n = _inside(2263)
    crs = "urn:ogc:def:crs,crs:EPSG::2263,crs:EPSG::6360"
    src = _building(tmp_path / "b.city.json", e, n, 100.0, None)
    report = check_conversion(src, tmp_path / "out", ConvertOptions(crs=crs), crs, "xy")
    assert report["report"].units == "US survey foot"


def test_ground_at_ellipsoid_moves_the_lowest_point_to_zero(tmp_path: Path) -> None:
    e, n = _inside(3008)
    src = _building(tmp_path / "b.city.json", e, n, 42.5, None)
    kept = convert(src, tmp_path / "kept", ConvertOptions(crs="EPSG:3008"))
    moved = convert(
        src, tmp_path / "moved", ConvertOptions(crs="EPSG:3008", ground_at_ellipsoid=True)
    )
    assert kept.height_shift == 0.0
    assert moved.height_shift == pytest.approx(-42.5, abs=0.001)
    assert moved.height_range == pytest.approx([0.0, 12.0], abs=0.001)
    # Same place on the map, only lower: the top corner moves straight down by 42.5 m.
    tops = []
    for out in ("kept", "moved"):
        tileset, glbs = load_tileset(tmp_path / out)
        ecef = np.concatenate([g.ecef_positions(root_transform(tileset)) for g in glbs])
        llh = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True).transform(
            ecef[:, 0], ecef[:, 1], ecef[:, 2]
        )
        pts = np.column_stack(llh)
        tops.append(pts[pts[:, 2] > pts[:, 2].max() - 0.5].mean(axis=0))  # the roof's centre
    assert tops[0][:2] == pytest.approx(tops[1][:2], abs=1e-8)
    assert tops[0][2] - tops[1][2] == pytest.approx(42.5, abs=0.01)


def _constant_geoid(folder: Path, undulation: float) -> None:
    """A world-wide GTX geoid grid of one value, under the file name PROJ looks for EGM96."""
    rows, cols = 3, 5
    header = struct.pack(">4d2i", -90.0, -180.0, 90.0, 90.0, rows, cols)
    values = np.full(rows * cols, undulation, dtype=">f4").tobytes()
    (folder / "egm96_15.gtx").write_bytes(header + values)


def test_geoid_grid_folder_setting(tmp_path: Path) -> None:
    """TWIN_PROJ_GRID_DIR makes PROJ use a grid placed there: heights become ellipsoidal.

    Run through the CLI in a child process, so the setting's whole path is exercised and
    this test's grid never leaks into other tests' PROJ context.
    """
    e, n = _inside(3006)
    crs = "urn:ogc:def:crs,crs:EPSG::3006,crs:EPSG::5773"  # SWEREF 99 TM + EGM96 height
    src = _building(tmp_path / "b.city.json", e, n, 10.0, None)
    grids = tmp_path / "grids"
    grids.mkdir()
    _constant_geoid(grids, 30.0)
    results = {}
    for name, extra in (("without", {}), ("with", {"TWIN_PROJ_GRID_DIR": str(grids)})):
        env = {**os.environ, **extra, "TWIN_DATA_DIR": str(tmp_path / "data")}
        out = tmp_path / name
        cmd = [sys.executable, "-m", "twin", "convert", str(src), "--out", str(out)]
        r = subprocess.run(
            [*cmd, "--crs", crs], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 0, r.stderr
        results[name] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    without, with_grid = results["without"], results["with"]
    assert without["height_method"] == "as-ellipsoidal"
    assert "egm96" in without["height_note"].lower()
    assert with_grid["height_method"] == "geoid"
    assert "EGM96" in with_grid["height_note"]
    assert with_grid["height_range"][0] == pytest.approx(without["height_range"][0] + 30, abs=0.01)
    assert with_grid["height_range"][1] == pytest.approx(without["height_range"][1] + 30, abs=0.01)
