"""End to end: CityJSON in, a tileset out that is valid, in place and keeps every attribute."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cityjson_source import load, merged_attributes, surface_vertices
from glbtools import Glb, load_tileset, root_transform
from pyproj import Transformer

from tiles import ConvertOptions, convert
from tiles.gltf_validator import validate_glbs
from tiles.validate import check_tileset

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"
FIXTURES = REPO / "tests" / "fixtures" / "cityjson"

#: Real CityJSON in ../shared/data: (relative path, options, CRS the test uses, axes "xy"/"yx").
SHARED = [
    ("cityjson-delft-bgt-lod1/delft.json", {}, "EPSG:7415", "xy"),
    ("cityjson-3dbag-b2/3dbag_b2.city.json", {}, "EPSG:7415", "xy"),
    ("cityjson-3dbag-b2/3dbag_b2.city.jsonl", {}, "EPSG:7415", "xy"),
    ("cityjsonseq-delft-subset/delft_subset.city.jsonl", {}, "EPSG:7415", "xy"),
    ("cityjson-plateau-japan/japanese.city.json", {}, "EPSG:6677", "yx"),
    ("cityjson-rotterdam-textured/rotterdam_one.json", {}, "EPSG:7415", "xy"),
    ("cityjson-rotterdam-textured/rotterdam_subset.json", {"crs": "EPSG:7415"}, "EPSG:7415", "xy"),
]


def expected_ecef(crs: str, axes: str, pts: np.ndarray) -> np.ndarray:
    """pyproj's ECEF for source coordinates: one transformer, straight to EPSG:4978."""
    if axes == "xy":
        t = Transformer.from_crs(crs, "EPSG:4978", always_xy=True)
    else:  # the CRS's own (northing-first) axis order
        t = Transformer.from_crs(crs, "EPSG:4978")
    return np.column_stack(t.transform(pts[:, 0], pts[:, 1], pts[:, 2]))


def _tiles_by_object(glbs: list[Glb]) -> dict[str, tuple[Glb, int]]:
    out = {}
    for glb in glbs:
        for row, oid in enumerate(glb.property_table(0)["id"]):
            out[oid] = (glb, row)
    return out


def check_conversion(
    source: Path, out: Path, options: ConvertOptions, crs: str, axes: str
) -> dict[str, Any]:
    report = convert(source, out, options)
    tileset, glbs = load_tileset(out)
    # Structure and validity.
    assert check_tileset(out / "tileset.json") == []
    reports = validate_glbs([out / "tiles" / p.name for p in (out / "tiles").glob("*.glb")])
    for path, r in reports.items():
        assert r.errors == 0, (path.name, r.messages[:5])
    # Placement: sampled source vertices land within 1 cm of pyproj's ECEF.
    _, objects = load(source)
    by_object = _tiles_by_object(glbs)
    assert len(by_object) == report.feature_count
    rng = random.Random(7)
    sample = rng.sample(sorted(by_object), min(25, len(by_object)))
    m = root_transform(tileset)
    worst = 0.0
    for oid in sample:
        glb, row = by_object[oid]
        fid = glb.attribute("_FEATURE_ID_0")
        mine = glb.ecef_positions(m)[fid == row]
        src = surface_vertices(objects[oid])
        assert len(src), oid
        assert len(mine), oid
        want = expected_ecef(crs, axes, src)
        d = np.linalg.norm(want[:, None, :] - mine[None, :, :], axis=2).min(axis=1)
        worst = max(worst, float(d.max()))
    assert worst < 0.01, f"a source vertex is {worst:.4f} m from where pyproj puts it"
    # Attributes: every attribute of each sampled object, same value, in the property table.
    for oid in sample:
        glb, row = by_object[oid]
        table, names = glb.property_table(0), glb.names(0)
        ids = {name: pid for pid, name in names.items()}
        assert table["type"][row] == objects[oid]["type"]
        for name, value in merged_attributes(objects, oid).items():
            assert name in ids, f"{oid}: attribute {name!r} missing"
            assert_same(table[ids[name]][row], value, f"{oid}.{name}")
    return {"report": report, "tileset": tileset, "glbs": glbs}


def assert_same(got: Any, want: Any, where: str) -> None:
    if want is None or want == "":
        assert got in (None, ""), where
    elif isinstance(want, dict | list):
        assert json.loads(got) == want, where
    elif isinstance(want, bool):
        assert got in (want, "true" if want else "false"), where
    elif isinstance(want, int | float) and isinstance(got, str):
        assert float(got) == want, where
    else:
        assert got == want, where


def test_demo_city_converts_valid_and_in_place(tmp_path: Path) -> None:
    result = check_conversion(DEMO, tmp_path / "out", ConvertOptions(), "EPSG:7415", "xy")
    report = result["report"]
    assert report.feature_count == 570
    assert report.types["Building"] == 160
    assert report.crs == "EPSG:7415"
    assert report.tile_count > 1, "the demo city should be split into several tiles"
    assert report.bytes_max_tile <= 2_000_000
    # Delft lies at about 4.36 E, 52.01 N.
    w, s, e, n = report.extent
    assert 4.3 < w < e < 4.4
    assert 51.9 < s < n < 52.1


@pytest.mark.shared_data
@pytest.mark.parametrize(("rel", "opts", "crs", "axes"), SHARED, ids=[s[0] for s in SHARED])
def test_every_real_cityjson_converts(
    shared_data: Path, tmp_path: Path, rel: str, opts: dict[str, str], crs: str, axes: str
) -> None:
    check_conversion(shared_data / rel, tmp_path / "out", ConvertOptions(**opts), crs, axes)


@pytest.mark.shared_data
def test_japanese_file_lands_in_minato_ku(shared_data: Path, tmp_path: Path) -> None:
    report = convert(shared_data / "cityjson-plateau-japan/japanese.city.json", tmp_path / "o")
    w, s, e, n = report.extent
    # Minato-ku, Tokyo: about 139.74 E, 35.66 N (the file is northing-first, as EPSG:6677).
    assert 139.70 < w < e < 139.78
    assert 35.63 < s < n < 35.70
    assert report.axis_order == "yx"
    names = {p["name"] for p in report.properties}
    assert "延べ面積換算係数" in names


def test_json_and_seq_give_identical_tiles(tmp_path: Path) -> None:
    a = convert(FIXTURES / "3dbag_b2.city.json", tmp_path / "a")
    b = convert(FIXTURES / "3dbag_b2.city.jsonl", tmp_path / "b")
    assert a.feature_count == b.feature_count == 2
    names = sorted(p.name for p in (tmp_path / "a" / "tiles").glob("*.glb"))
    assert names == sorted(p.name for p in (tmp_path / "b" / "tiles").glob("*.glb"))
    for name in names:
        ga, gb = Glb(tmp_path / "a" / "tiles" / name), Glb(tmp_path / "b" / "tiles" / name)
        assert ga.property_table(0) == gb.property_table(0)
        assert np.array_equal(ga.attribute("POSITION"), gb.attribute("POSITION"))
        assert (tmp_path / "a" / "tiles" / name).read_bytes() == (
            tmp_path / "b" / "tiles" / name
        ).read_bytes()


def test_small_tile_budget_splits_and_bounds_contain_content(tmp_path: Path) -> None:
    report = convert(DEMO, tmp_path / "out", ConvertOptions(max_tile_bytes=200_000))
    assert report.tile_count >= 10
    assert check_tileset(tmp_path / "out" / "tileset.json") == []
    tileset, glbs = load_tileset(tmp_path / "out")

    # Every tile's box contains its content's vertices (in the root's ENU frame).
    def walk(tile: dict[str, Any]) -> None:
        if "content" in tile:
            glb = Glb(tmp_path / "out" / tile["content"]["uri"])
            local = glb.attribute("POSITION").astype(np.float64) + glb.translation
            enu = np.column_stack([local[:, 0], -local[:, 2], local[:, 1]])
            box = np.array(tile["boundingVolume"]["box"])
            half = np.abs(box[3:].reshape(3, 3)).sum(axis=0)
            assert (np.abs(enu - box[:3]) <= half + 1e-3).all(), tile["content"]["uri"]
        for child in tile.get("children", []):
            assert child["geometricError"] <= tile["geometricError"]
            walk(child)

    walk(tileset["root"])
    assert sum(g.property_table(0)["id"].__len__() for g in glbs) == report.feature_count


def test_failed_conversion_leaves_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert(DEMO, out)
    before = sorted(p.name for p in (out / "tiles").iterdir())
    bad = tmp_path / "bad.city.json"
    bad.write_text('{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}')
    with pytest.raises(Exception, match="no city object"):
        convert(bad, out)
    assert sorted(p.name for p in (out / "tiles").iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
