"""The footprint reader: GeoJSON, GeoPackage and zipped Shapefile extruded to LoD1.

Small fixtures in tests/fixtures/footprints/ (CC0); GeoPackages and Shapefiles are
written by the tests with geopandas; the real Lyon export in ../shared/data converts
end to end.
"""

from __future__ import annotations

import json
import random
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from glbtools import load_tileset, root_transform
from pyproj import Transformer
from shapely.geometry import Polygon

from tiles import ConvertOptions, convert
from tiles.errors import CRSMissing, InputError, UnsupportedFormat
from tiles.gltf_validator import validate_glbs
from tiles.model import SURFACE_INDEX, Feature
from tiles.readers import footprints, read, sniff
from tiles.validate import check_tileset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "footprints"
WGS84 = FIXTURES / "wgs84_rfc7946.geojson"
LEGACY = FIXTURES / "legacy_crs_3946.geojson"
CITYJSON = Path(__file__).resolve().parents[1] / "fixtures" / "cityjson"
LYON = "geojson-lyon1-bdtopo-buildings/buildings_lyon1.geojson"
ROOF, WALL, GROUND = (SURFACE_INDEX[n] for n in ("RoofSurface", "WallSurface", "GroundSurface"))


# -- helpers ------------------------------------------------------------------------------------
def by_id(features: list[Feature]) -> dict[str, Feature]:
    return {f.id: f for f in features}


def tri_normals(f: Feature) -> np.ndarray:
    p = f.mesh.positions[f.mesh.triangles]
    return np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])


def volume(f: Feature) -> float:
    """Signed volume of the closed mesh (positive when every face looks outward)."""
    p = f.mesh.positions[f.mesh.triangles] - f.mesh.positions.mean(axis=0)
    return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6)


def assert_prism(f: Feature, footprint: Any, base: float, top: float) -> None:
    """A closed prism over ``footprint`` from ``base`` to ``top``, every face outward."""
    m = f.mesh
    assert m.positions.dtype == np.float64
    assert m.triangles.dtype == np.int64
    assert np.isfinite(m.positions).all()
    assert set(np.unique(m.surfaces).tolist()) == {ROOF, WALL, GROUND}
    z = m.positions[:, 2]
    assert z.min() == pytest.approx(base)
    assert z.max() == pytest.approx(top)
    n = tri_normals(f)
    assert (np.linalg.norm(n, axis=1) > 0).all()
    area = footprint.area
    # Volume of a prism: area x height, and positive (outward).
    assert volume(f) == pytest.approx(area * (top - base), rel=1e-6)
    # Roof up, ground down, each covering the footprint's area exactly.
    roof, ground, wall = (m.surfaces == s for s in (ROOF, GROUND, WALL))
    assert (n[roof, 2] > 0).all()
    assert (n[ground, 2] < 0).all()
    assert np.linalg.norm(n[roof], axis=1).sum() / 2 == pytest.approx(area, rel=1e-9)
    assert np.linalg.norm(n[ground], axis=1).sum() / 2 == pytest.approx(area, rel=1e-9)
    # Walls upright; a step along the normal from a wall's middle leaves the footprint.
    assert np.abs(n[wall, 2]).max() <= 1e-9 * np.abs(n[wall]).max()
    p = m.positions[m.triangles[wall]]
    mid = p.mean(axis=1)[:, :2]
    unit = n[wall, :2] / np.linalg.norm(n[wall, :2], axis=1)[:, None]
    step = 1e-3 * np.sqrt(area)
    outside = shapely.points(mid + step * unit)
    inside = shapely.points(mid - step * unit)
    assert not shapely.contains(footprint, outside).any()
    assert shapely.contains(footprint, inside).all()


def write_geojson(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def square(x: float, y: float, size: float = 10.0, z: float | None = None) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    if z is not None:
        ring = [[*c, z] for c in ring]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(props: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def frame_3946() -> gpd.GeoDataFrame:
    """Three footprints in Lyon (EPSG:3946) with attributes of every type."""
    shell = [(1842000, 5175800), (1842030, 5175800), (1842030, 5175820), (1842000, 5175820)]
    hole = [(1842010, 5175805), (1842010, 5175815), (1842020, 5175815), (1842020, 5175805)]
    return gpd.GeoDataFrame(
        {
            "bldg_id": ["a", "b", "c"],
            "hoehe": [12.0, 7.5, 9.0],
            "floors": [4, 2, 3],
            "name": ["Hof", "Garage", None],
            "year": [1901, 1965, 2004],
        },
        geometry=[
            Polygon(shell, [hole]),
            Polygon(
                [(1842100, 5175800), (1842110, 5175800), (1842110, 5175806), (1842100, 5175806)]
            ),
            Polygon([(1842200, 5175800), (1842208, 5175800), (1842204, 5175807)]),
        ],
        crs="EPSG:3946",
    )


def zip_shapefile(
    tmp_path: Path, leave_out: tuple[str, ...] = (), extra: dict[str, bytes] | None = None
) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    frame_3946().to_file(folder / "buildings.shp")
    out = tmp_path / "buildings.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            if p.suffix not in leave_out:
                zf.write(p, f"export/{p.name}")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


# -- sniffing -----------------------------------------------------------------------------------
def test_sniff_claims_geojson_but_not_cityjson(tmp_path: Path) -> None:
    assert sniff(WGS84) is footprints
    assert sniff(LEGACY) is footprints
    for cj in sorted(CITYJSON.glob("*.city.json*")):
        assert sniff(cj) is not footprints, cj.name
    single = write_geojson(tmp_path / "f.json", [])
    single.write_text(json.dumps(feature({"height": 3}, square(0, 0))))
    assert sniff(single) is footprints
    other = tmp_path / "other.geojson"
    other.write_text('{"type": "Topology", "objects": {}}')
    with pytest.raises(UnsupportedFormat):
        sniff(other)


def test_sniff_finds_the_type_member_beyond_the_head(tmp_path: Path) -> None:
    props = {"note": "x" * 100_000}
    doc = {"features": [feature({"height": 5, **props}, square(4.83, 45.76, 0.0001))]}
    doc["type"] = "FeatureCollection"  # after 100 kB of features
    path = tmp_path / "late_type.json"
    path.write_text(json.dumps(doc))
    assert sniff(path) is footprints


# -- GeoJSON: RFC 7946 and legacy crs ------------------------------------------------------
def test_rfc7946_geojson_is_wgs84_lon_lat() -> None:
    data = read(WGS84, ConvertOptions())
    assert data.crs_text == "EPSG:4326"
    assert data.format == "GeoJSON"
    assert data.object_count == 9
    assert data.lods == {"1": 5}
    assert any("RFC 7946" in w and "ellipsoid" in w for w in data.warnings)
    feats = by_id(data.features)
    assert sorted(feats) == ["bowtie", "courtyard", "ell", "square", "two-parts"]
    for f in data.features:
        assert f.type == "Building"
        assert f.lod == "1"
        assert f.parent_id is None
        # lon/lat order: x is the longitude
        assert 4.82 < f.mesh.positions[:, 0].min() < 4.84
        assert 45.75 < f.mesh.positions[:, 1].min() < 45.77


def test_skipped_footprints_are_listed_with_reasons() -> None:
    data = read(WGS84, ConvertOptions())
    reasons = {s.object_id: s.reason for s in data.skipped}
    assert set(reasons) == {"no-height", "flat", "tower", "lamp"}
    assert "missing" in reasons["no-height"]
    assert "not positive" in reasons["flat"]
    assert "1500" in reasons["tower"]
    assert "1000" in reasons["tower"]
    assert "Point" in reasons["lamp"]
    assert any("4 footprints skipped" in w for w in data.warnings)


def test_bowtie_is_repaired_and_counted() -> None:
    data = read(WGS84, ConvertOptions())
    assert any("1 invalid footprints repaired" in w for w in data.warnings)
    f = by_id(data.features)["bowtie"]
    repaired = shapely.make_valid(
        Polygon([(4.8340, 45.7600), (4.8342, 45.7602), (4.8342, 45.7600), (4.8340, 45.7602)])
    )
    assert volume(f) == pytest.approx(repaired.area * 5, rel=1e-6)


@pytest.mark.parametrize("oid", ["square", "courtyard", "ell", "two-parts"])
def test_extrusion_is_a_closed_outward_prism(oid: str) -> None:
    doc = json.loads(WGS84.read_text())
    src = next(f for f in doc["features"] if f["properties"]["id"] == oid)
    shape = shapely.geometry.shape(src["geometry"])
    f = by_id(read(WGS84, ConvertOptions()).features)[oid]
    assert_prism(f, shape, 0.0, src["properties"]["height"])


def test_hole_has_inner_walls_facing_the_courtyard() -> None:
    f = by_id(read(WGS84, ConvertOptions()).features)["courtyard"]
    walls = f.mesh.triangles[f.mesh.surfaces == WALL]
    assert walls.shape[0] == 2 * (4 + 4)  # two triangles per edge, outer and inner ring
    # No roof triangle covers the courtyard's middle.
    mid = np.array([4.8313, 45.7602])
    roof = f.mesh.positions[f.mesh.triangles[f.mesh.surfaces == ROOF]][:, :, :2]
    tris = shapely.polygons(np.concatenate([roof, roof[:, :1]], axis=1))
    assert not shapely.contains(tris, shapely.points(mid)).any()


def test_attributes_kept_with_their_types() -> None:
    feats = by_id(read(WGS84, ConvertOptions()).features)
    assert feats["square"].attributes == {
        "id": "square",
        "height": 12.5,
        "name": "Square house",
        "storeys": 4,
        "listed": True,
    }
    # null and absent properties are missing, not NaN
    assert "storeys" not in feats["courtyard"].attributes
    assert feats["courtyard"].attributes["listed"] is False
    assert isinstance(feats["square"].attributes["storeys"], int)


def test_legacy_crs_member_and_auto_detected_absolute_heights() -> None:
    data = read(LEGACY, ConvertOptions())
    assert data.crs_text == "EPSG:3946"
    assert not any("RFC 7946" in w for w in data.warnings)
    detected = [w for w in data.warnings if "detected automatically" in w]
    assert len(detected) == 1
    for name in ("Z_MIN_SOL", "HAUTEUR", "Z_MAX_TOIT", "NB_ETAGES"):
        assert repr(name) in detected[0]
    feats = by_id(data.features)
    z = {
        oid: (f.mesh.positions[:, 2].min(), f.mesh.positions[:, 2].max())
        for oid, f in feats.items()
    }
    assert z["B1"] == (170.0, 180.0)  # ground + HAUTEUR; the ring's own z (172.5) ignored
    assert z["B2"] == (171.0, 187.5)
    assert z["B3"] == (172.0, 178.0)  # no HAUTEUR: the absolute roof
    assert z["B4"] == (172.0, 187.0)  # neither: 5 storeys x 3 m
    assert feats["B2"].attributes == {
        "gml_id": "B2",
        "HAUTEUR": 16.5,
        "Z_MIN_SOL": 171.0,
        "USAGE": "Commercial et services",
    }
    assert feats["B4"].attributes["NB_ETAGES"] == 5
    doc = json.loads(LEGACY.read_text())
    shape = shapely.geometry.shape(doc["features"][1]["geometry"])
    assert_prism(feats["B2"], shapely.force_2d(shape), 171.0, 187.5)


# -- height modes ----------------------------------------------------------------------------
def _modes_file(tmp_path: Path) -> Path:
    return write_geojson(
        tmp_path / "modes.geojson",
        [
            feature({"ref": "a", "h": 10, "zg": 100, "zr": 125, "n": 4}, square(0, 0, z=50)),
            feature({"ref": "b", "h": 6, "zg": 101, "zr": 111, "n": 2}, square(20, 0, z=51)),
        ],
        crs="urn:ogc:def:crs:EPSG::2154",
    )


def _z(path: Path, **options: Any) -> dict[str, tuple[float, float]]:
    data = read(path, ConvertOptions(**options))
    return {
        f.attributes["ref"]: (f.mesh.positions[:, 2].min(), f.mesh.positions[:, 2].max())
        for f in data.features
    }


def test_height_attribute_over_the_footprint_z(tmp_path: Path) -> None:
    path = _modes_file(tmp_path)
    assert _z(path, height_attribute="h") == {"a": (50, 60), "b": (51, 57)}


def test_height_attribute_over_a_ground_attribute(tmp_path: Path) -> None:
    path = _modes_file(tmp_path)
    assert _z(path, height_attribute="h", ground_attribute="zg") == {
        "a": (100, 110),
        "b": (101, 107),
    }


def test_absolute_ground_and_roof(tmp_path: Path) -> None:
    path = _modes_file(tmp_path)
    assert _z(path, ground_attribute="zg", roof_attribute="zr") == {
        "a": (100, 125),
        "b": (101, 111),
    }


def test_storeys_times_storey_height(tmp_path: Path) -> None:
    path = _modes_file(tmp_path)
    assert _z(path, storeys_attribute="n", storey_height=3.5) == {"a": (50, 64), "b": (51, 58)}
    assert _z(path, storeys_attribute="N") == {"a": (50, 62), "b": (51, 57)}  # case-insensitive


def test_two_dimensional_footprints_start_at_zero(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "flat.geojson", [feature({"ref": "a", "height": 7}, square(0, 0))], "EPSG:2154"
    )
    assert _z(path) == {"a": (0, 7)}


def test_default_height_fills_missing_heights(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            feature({"ref": "a", "height": 7}, square(0, 0)),
            feature({"ref": "b", "height": None}, square(20, 0)),
        ],
        "EPSG:2154",
    )
    assert _z(path) == {"a": (0, 7)}
    data = read(path, ConvertOptions(default_height=4))
    assert any("1 footprints without a height got --default-height 4" in w for w in data.warnings)
    assert _z(path, default_height=4) == {"a": (0, 7), "b": (0, 4)}
    nothing = write_geojson(
        tmp_path / "n.geojson", [feature({"ref": "a"}, square(0, 0))], "EPSG:2154"
    )
    assert _z(nothing, default_height=5) == {"a": (0, 5)}


def test_no_height_attribute_is_a_clear_error(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "n.geojson", [feature({"ref": "a"}, square(0, 0))], "EPSG:2154")
    with pytest.raises(footprints.NoHeight, match="--height-attribute") as exc:
        read(path, ConvertOptions())
    assert "ref" in exc.value.message


def test_unknown_attribute_name_lists_the_attributes(tmp_path: Path) -> None:
    path = _modes_file(tmp_path)
    with pytest.raises(InputError, match=r"--height-attribute 'hight'.*ref, h, zg"):
        read(path, ConvertOptions(height_attribute="hight"))


def test_all_footprints_invalid_is_an_error(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "bad.geojson",
        [
            feature({"height": 0}, square(0, 0)),
            feature({"height": -3}, square(20, 0)),
            feature({"height": 5000}, square(40, 0)),
        ],
        "EPSG:2154",
    )
    with pytest.raises(footprints.NoHeight, match="none of the 3 footprints"):
        read(path, ConvertOptions())


@pytest.mark.parametrize(
    "bad", [{"storey_height": 0}, {"default_height": -1}, {"default_height": 2000}]
)
def test_bad_height_options(tmp_path: Path, bad: dict[str, float]) -> None:
    with pytest.raises(InputError):
        read(_modes_file(tmp_path), ConvertOptions(**bad))


def test_ids_from_id_like_attributes_or_the_row(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "ids.geojson",
        [
            feature({"gml_id": "x", "height": 3}, square(0, 0)),
            feature({"gml_id": "x", "height": 3}, square(20, 0)),
            feature({"gml_id": None, "height": 3}, square(40, 0)),
        ],
        "EPSG:2154",
    )
    data = read(path, ConvertOptions())
    assert [f.id for f in data.features] == ["x#1", "x#2", "2"]
    assert any("more than once" in w for w in data.warnings)


def test_non_finite_coordinates_are_refused(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "huge.geojson", [feature({"height": 3}, square(1e300, 0))], "EPSG:2154"
    )
    with pytest.raises(InputError, match="finite"):
        read(path, ConvertOptions())


def test_broken_geojson_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", ')
    with pytest.raises(InputError):
        read(path, ConvertOptions())


# -- GeoPackage --------------------------------------------------------------------------------
def test_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "buildings.gpkg"
    frame_3946().to_file(path, layer="buildings", driver="GPKG")
    assert sniff(path) is footprints
    data = read(path, ConvertOptions())
    assert data.format == "GeoPackage"
    assert data.crs_text == "EPSG:3946"
    feats = by_id(data.features)
    assert sorted(feats) == ["a", "b", "c"]
    assert feats["a"].attributes == {
        "bldg_id": "a",
        "hoehe": 12.0,
        "floors": 4,
        "name": "Hof",
        "year": 1901,
    }
    assert "name" not in feats["c"].attributes
    src = frame_3946()
    assert_prism(feats["a"], src.geometry[0], 0.0, 12.0)
    assert_prism(feats["c"], src.geometry[2], 0.0, 9.0)
    assert any("height from 'hoehe'" in w for w in data.warnings)


def test_geopackage_with_two_polygon_layers_warns(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    frame_3946().to_file(path, layer="first", driver="GPKG")
    frame_3946().to_file(path, layer="second", driver="GPKG")
    data = read(path, ConvertOptions())
    assert len(data.features) == 3
    assert any("2 polygon layers" in w and "'second'" in w for w in data.warnings)


def test_file_named_gpkg_that_is_not_sqlite(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gpkg"
    fake.write_text("this is not a database\n")
    assert not footprints.sniff(fake, fake.read_bytes())
    with pytest.raises(UnsupportedFormat):
        read(fake, ConvertOptions())


def test_sqlite_without_gpkg_tables_is_not_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "plain.gpkg"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    conn.close()
    with pytest.raises(UnsupportedFormat):
        read(path, ConvertOptions())


def test_truncated_geopackage_is_an_input_error(tmp_path: Path) -> None:
    good = tmp_path / "good.gpkg"
    frame_3946().to_file(good, layer="buildings", driver="GPKG")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(good.read_bytes()[:1024] + b"\0" * 4096)
    with pytest.raises(InputError):
        read(bad, ConvertOptions())


# -- zipped Shapefile --------------------------------------------------------------------------
def test_zipped_shapefile(tmp_path: Path) -> None:
    path = zip_shapefile(tmp_path)
    assert sniff(path) is footprints
    data = read(path, ConvertOptions(height_attribute="hoehe"))
    assert data.format == "Shapefile (zip)"
    assert data.crs_text == "EPSG:3946"
    feats = by_id(data.features)
    assert feats["b"].attributes == {
        "bldg_id": "b",
        "hoehe": 7.5,
        "floors": 2,
        "name": "Garage",
        "year": 1965,
    }
    assert_prism(feats["a"], frame_3946().geometry[0], 0.0, 12.0)


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_shapefile_without_a_sidecar(tmp_path: Path, missing: str) -> None:
    path = zip_shapefile(tmp_path, leave_out=(missing,))
    with pytest.raises(footprints.IncompleteShapefile, match=missing) as exc:
        read(path, ConvertOptions())
    assert exc.value.code == "incomplete_shapefile"


def test_shapefile_without_prj_needs_crs(tmp_path: Path) -> None:
    path = zip_shapefile(tmp_path, leave_out=(".prj",))
    with pytest.raises(CRSMissing, match="--crs"):
        read(path, ConvertOptions())
    data = read(path, ConvertOptions(crs="EPSG:3946"))
    assert len(data.features) == 3


@pytest.mark.parametrize(
    "entry",
    ["../evil.txt", "/etc/passwd", "export/../../x", "C:/Windows/x", "a\\..\\..\\b", "bad\x01name"],
)
def test_zip_slip_and_unsafe_names(tmp_path: Path, entry: str) -> None:
    path = zip_shapefile(tmp_path, extra={entry: b"x"})
    with pytest.raises(footprints.UnsafePath) as exc:
        read(path, ConvertOptions())
    assert exc.value.code == "unsafe_path"


def test_zip_case_colliding_names(tmp_path: Path) -> None:
    path = zip_shapefile(tmp_path, extra={"EXPORT/BUILDINGS.SHX": b"x"})
    with pytest.raises(footprints.UnsafePath, match="same name"):
        read(path, ConvertOptions())


def test_zip_symlink_entry(tmp_path: Path) -> None:
    path = zip_shapefile(tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo("export/link")
        info.external_attr = (0o120777 << 16) | 0
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(footprints.UnsafePath, match="symbolic link"):
        read(path, ConvertOptions())


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    path = zip_shapefile(tmp_path, extra={"export/padding.bin": b"\0" * (8 * 1024**2)})
    with pytest.raises(footprints.ArchiveTooLarge, match="zip bomb"):
        read(path, ConvertOptions())


def test_zip_encrypted_entry(tmp_path: Path) -> None:
    path = zip_shapefile(tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("export/secret.txt", b"x")
    # Set the "encrypted" flag in the entry's central directory record.
    raw = bytearray(path.read_bytes())
    at = raw.rfind(b"PK\x01\x02")
    raw[at + 8] |= 0x1
    path.write_bytes(bytes(raw))
    with pytest.raises(footprints.UnsupportedArchive, match="encrypted"):
        read(path, ConvertOptions())


def test_zip_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(footprints, "MAX_ZIP_ENTRIES", 5)
    path = zip_shapefile(tmp_path, extra={f"export/n{i}.txt": b"" for i in range(5)})
    with pytest.raises(footprints.ArchiveTooLarge, match="entries"):
        read(path, ConvertOptions())


def test_zip_without_shapefile_is_not_claimed(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert not footprints.sniff(path, path.read_bytes()[:65536])
    with pytest.raises(UnsupportedFormat):
        read(path, ConvertOptions())


def test_two_shapefiles_in_one_zip(tmp_path: Path) -> None:
    path = zip_shapefile(
        tmp_path, extra={"other/x.shp": b"", "other/x.shx": b"", "other/x.dbf": b""}
    )
    with pytest.raises(InputError, match="2 Shapefiles"):
        read(path, ConvertOptions())


# -- CLI --------------------------------------------------------------------------------------
def test_cli_flags_reach_the_options() -> None:
    from twin.cli import _options, _parser

    args = _parser().parse_args(
        [
            "convert",
            "x.geojson",
            "--out",
            "o",
            "--height-attribute",
            "H",
            "--ground-attribute",
            "G",
            "--roof-attribute",
            "R",
            "--storeys-attribute",
            "S",
            "--storey-height",
            "2.8",
            "--default-height",
            "6",
        ]
    )
    o = _options(args)
    assert (o.height_attribute, o.ground_attribute, o.roof_attribute, o.storeys_attribute) == (
        "H",
        "G",
        "R",
        "S",
    )
    assert (o.storey_height, o.default_height) == (2.8, 6.0)
    defaults = _options(_parser().parse_args(["convert", "x", "--out", "o"]))
    assert defaults.storey_height == 3.0
    assert defaults.default_height is None


# -- end to end --------------------------------------------------------------------------------
def check_footprint_conversion(
    source: Path, out: Path, options: ConvertOptions, crs: str, ground: str | None
) -> dict[str, Any]:
    """Convert, validate, and check that footprint corners at the base height land within
    1 cm of pyproj's ECEF and that every attribute reached the property table."""
    report = convert(source, out, options)
    tileset, glbs = load_tileset(out)
    assert check_tileset(out / "tileset.json") == []
    reports = validate_glbs(sorted((out / "tiles").glob("*.glb")))
    for path, r in reports.items():
        assert r.errors == 0, (path.name, r.messages[:5])
    data = read(source, options)
    feats = by_id(data.features)
    frame = gpd.read_file(source)
    by_object: dict[str, tuple[Any, int]] = {}
    for glb in glbs:
        for row, oid in enumerate(glb.property_table(0)["id"]):
            by_object[oid] = (glb, row)
    assert len(by_object) == report.feature_count == len(feats)
    to_ecef = Transformer.from_crs(crs, "EPSG:4978", always_xy=True)
    m = root_transform(tileset)
    sample = random.Random(7).sample(sorted(by_object), min(25, len(by_object)))
    source_ids = _ids(frame)
    worst = 0.0
    for oid in sample:
        glb, row = by_object[oid]
        mine = glb.ecef_positions(m)[glb.attribute("_FEATURE_ID_0") == row]
        f = feats[oid]
        src_row = frame.iloc[int(np.flatnonzero(source_ids == oid)[0])]
        base = float(src_row[ground]) if ground else float(f.mesh.positions[:, 2].min())
        xy = shapely.get_coordinates(src_row.geometry)
        want = np.column_stack(to_ecef.transform(xy[:, 0], xy[:, 1], np.full(len(xy), base)))
        d = np.linalg.norm(want[:, None, :] - mine[None, :, :], axis=2).min(axis=1)
        worst = max(worst, float(d.max()))
        # attributes
        table, names = glb.property_table(0), glb.names(0)
        ids = {name: pid for pid, name in names.items()}
        assert table["type"][row] == "Building"
        for name, value in f.attributes.items():
            assert name in ids, f"{oid}: attribute {name!r} missing"
            got = table[ids[name]][row]
            if isinstance(value, float) and not isinstance(got, str):
                assert got == pytest.approx(value), (oid, name)
            else:
                assert got == value or str(got) == str(value), (oid, name, got, value)
    assert worst < 0.01, f"a footprint corner is {worst:.4f} m from where pyproj puts it"
    return {"report": report, "tileset": tileset, "glbs": glbs, "data": data}


def _ids(frame: gpd.GeoDataFrame) -> np.ndarray:
    for c in ("ID", "gml_id", "id"):
        if c in frame.columns:
            return frame[c].astype(str).to_numpy()
    return np.arange(len(frame)).astype(str)


def test_legacy_fixture_converts_in_place(tmp_path: Path) -> None:
    out = check_footprint_conversion(
        LEGACY, tmp_path / "out", ConvertOptions(), "EPSG:3946", "Z_MIN_SOL"
    )
    report = out["report"]
    assert report.lods == {"1": 4}
    assert report.types == {"Building": 4}
    assert report.crs_from == "file"


def test_wgs84_fixture_converts(tmp_path: Path) -> None:
    report = convert(WGS84, tmp_path / "out", ConvertOptions())
    assert report.feature_count == 5
    assert {s["object_id"] for s in report.skipped} == {"no-height", "flat", "tower", "lamp"}
    assert report.axis_order == "xy"
    assert 4.82 < report.extent[0] < 4.84
    assert 45.75 < report.extent[1] < 45.77
    reports = validate_glbs(sorted((tmp_path / "out" / "tiles").glob("*.glb")))
    assert all(r.errors == 0 for r in reports.values())


def test_north_first_crs_geopackage_is_read_easting_first(tmp_path: Path) -> None:
    """GDAL gives GeoPackage coordinates easting first, even for SWEREF 99 TM."""
    frame = gpd.GeoDataFrame(
        {"height": [10.0]},
        geometry=[Polygon([(674000, 6580000), (674020, 6580000), (674020, 6580015)])],
        crs="EPSG:3006",
    )
    path = tmp_path / "stockholm.gpkg"
    frame.to_file(path, driver="GPKG")
    assert read(path, ConvertOptions()).axis_order == "xy"
    report = convert(path, tmp_path / "out", ConvertOptions())
    assert report.axis_order == "xy"
    west, south, _, _ = report.extent
    assert 18.0 < west < 18.2
    assert 59.3 < south < 59.4


@pytest.mark.shared_data
def test_lyon_bdtopo_converts_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / LYON
    out = check_footprint_conversion(
        source, tmp_path / "out", ConvertOptions(), "EPSG:3946", "Z_MIN_SOL"
    )
    report, data = out["report"], out["data"]
    assert report.crs == "EPSG:3946" or "3946" in report.crs
    assert report.object_count == 2576
    assert report.feature_count == 2571
    assert len(report.skipped) == 5
    assert all("Z_MIN_SOL" in s["reason"] for s in report.skipped)
    assert any("'HAUTEUR'" in w for w in report.warnings)
    # Lyon 1er: lon 4.82..4.84, lat 45.76..45.78; ground about 160..300 m
    west, south, east, north = report.extent
    assert 4.81 < west < east < 4.85
    assert 45.75 < south < north < 45.78
    for f in data.features[:200]:
        z = f.mesh.positions[:, 2]
        assert f.attributes["Z_MIN_SOL"] == pytest.approx(z.min())
        if "HAUTEUR" in f.attributes:
            assert z.max() - z.min() == pytest.approx(f.attributes["HAUTEUR"])
