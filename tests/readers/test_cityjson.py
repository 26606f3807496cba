"""The CityJSON reader on the small fixtures committed in tests/fixtures/cityjson/.

These run on a fresh clone; the real exports in ../shared/data are in
test_cityjson_shared.py and hostile inputs in test_cityjson_errors.py.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from tiles.model import SURFACE_INDEX, SURFACE_TYPES
from tiles.options import ConvertOptions
from tiles.readers import read

from .cjutil import (
    FIXTURES,
    assert_mesh_sane,
    by_id,
    canonical_triangles,
    corners,
    covers,
    expected_attributes,
    load_source,
    mesh_area,
    newell,
    read_fixture,
    triangle_normals,
)

RD_URL = "https://www.opengis.net/def/crs/EPSG/0/7415"
ORIGIN = np.array([85000.0, 446500.0, 0.0])  # the fixtures' transform.translate
SYNTHETIC = sorted(p.name for p in FIXTURES.glob("*.city.json*") if not p.name.startswith("3dbag"))


def test_fixtures_present() -> None:
    assert len(SYNTHETIC) >= 10, SYNTHETIC
    assert (FIXTURES / "3dbag_b2.city.json").is_file()
    assert (FIXTURES / "3dbag_b2.city.jsonl").is_file()


@pytest.mark.parametrize("name", [*SYNTHETIC, "3dbag_b2.city.json", "3dbag_b2.city.jsonl"])
def test_every_fixture_reads_to_sane_meshes(name: str) -> None:
    data = read_fixture(name)
    assert data.features
    for f in data.features:
        assert_mesh_sane(f.mesh, len(SURFACE_TYPES))
    _, objects = load_source(FIXTURES / name)
    assert data.object_count == len(objects)
    for f in data.features:
        assert f.type == objects[f.id]["type"]
        assert f.attributes == expected_attributes(objects, f.id)
    assert data.lods == dict(Counter(f.lod for f in data.features))


@pytest.mark.parametrize(
    ("name", "fmt", "crs"),
    [
        ("v10_lod_number.city.json", "CityJSON 1.0", "urn:ogc:def:crs:EPSG::7415"),
        ("v11_multisolid_compositesolid.city.json", "CityJSON 1.1", RD_URL),
        ("v20_geometry_instance.city.json", "CityJSON 2.0", RD_URL),
        ("building_parts.city.jsonl", "CityJSON 2.0", RD_URL),
        (
            "compound_crs.city.json",
            "CityJSON 2.0",
            "http://www.opengis.net/def/crs-compound?1=http://www.opengis.net/def/crs/EPSG/0/28992"
            "&2=http://www.opengis.net/def/crs/EPSG/0/5709",
        ),
    ],
)
def test_version_and_reference_system(name: str, fmt: str, crs: str) -> None:
    data = read_fixture(name)
    assert data.format == fmt
    assert data.crs_text == crs


# -- versions, transform ------------------------------------------------------------
def test_v10_lod_as_number_without_transform() -> None:
    data = read_fixture("v10_lod_number.city.json")
    assert data.warnings == []  # 1.0 does not require 'transform'
    (f,) = data.features
    assert f.lod == "2.2"  # a JSON number 2.2, the highest
    assert f.attributes == {"storeysAboveGround": 2}
    assert f.mesh.triangle_count == 12
    lo, hi = f.mesh.positions.min(axis=0), f.mesh.positions.max(axis=0)
    np.testing.assert_allclose(lo, [85000.0, 446500.0, 0.0])
    np.testing.assert_allclose(hi, [85010.0, 446508.0, 6.0])
    (one,) = read_fixture("v10_lod_number.city.json", lod="1").features
    assert one.lod == "1"  # a JSON integer 1
    assert one.mesh.triangle_count == 12


def test_transform_gives_real_coordinates() -> None:
    path = FIXTURES / "v11_multisolid_compositesolid.city.json"
    raw = json.loads(path.read_text())
    expected = np.asarray(raw["vertices"], dtype=np.float64) * 0.001 + ORIGIN
    for f in read(path, ConvertOptions()).features:
        # every position is one of the file's vertices, scaled and translated
        d = np.abs(f.mesh.positions[:, None, :] - expected[None, :, :]).max(axis=2)
        assert d.min(axis=1).max() < 1e-9


def test_multisolid_keeps_every_solid_and_its_semantics() -> None:
    f = by_id(read_fixture("v11_multisolid_compositesolid.city.json"))["multisolid"]
    assert f.mesh.triangle_count == 24  # 2 boxes × 6 quads × 2 triangles
    np.testing.assert_allclose(f.mesh.positions.min(axis=0), ORIGIN)
    np.testing.assert_allclose(f.mesh.positions.max(axis=0), ORIGIN + np.array([14, 4, 5]))
    names = Counter(SURFACE_TYPES[s] for s in f.mesh.surfaces)
    # the second solid's west wall has a null semantic value: class 0
    assert names == {"GroundSurface": 4, "RoofSurface": 4, "WallSurface": 14, "": 2}
    west2 = [
        i
        for i, c in enumerate(corners(f.mesh))
        if np.allclose(c[:, 0], 85010.0) and f.mesh.surfaces[i] == 0
    ]
    assert len(west2) == 2


def test_compositesolid() -> None:
    f = by_id(read_fixture("v11_multisolid_compositesolid.city.json"))["compositesolid"]
    assert f.mesh.triangle_count == 24
    assert f.lod == "2"
    np.testing.assert_allclose(f.mesh.positions.min(axis=0), ORIGIN + np.array([20, 0, 0]))
    np.testing.assert_allclose(f.mesh.positions.max(axis=0), ORIGIN + np.array([30, 5, 7]))
    assert mesh_area(f.mesh) == pytest.approx(2 * (30 + 24 + 20) + 2 * (20 + 28 + 35))


# -- GeometryInstance --------------------------------------------------------------
def test_geometry_instance_vertices_are_refpoint_plus_matrix_times_template() -> None:
    path = FIXTURES / "v20_geometry_instance.city.json"
    raw = json.loads(path.read_text())
    template = raw["geometry-templates"]["templates"][0]
    tv = np.asarray(raw["geometry-templates"]["vertices-templates"], dtype=np.float64)
    features = by_id(read(path, ConvertOptions()))
    assert set(features) == {"tree-identity", "tree-rotated-scaled", "tree-translated"}
    for oid, f in features.items():
        g = raw["CityObjects"][oid]["geometry"][0]
        ref = np.asarray(raw["vertices"][g["boundaries"][0]]) * 0.001 + ORIGIN
        m = np.asarray(g["transformationMatrix"], dtype=np.float64).reshape(4, 4)
        want = (tv @ m[:3, :3].T) + m[:3, 3] + ref
        assert f.lod == template["lod"]
        assert f.mesh.triangle_count == 6  # a quad base and four triangular sides
        got = {tuple(np.round(p, 9)) for p in f.mesh.positions}
        assert got == {tuple(np.round(p, 9)) for p in want}, oid
    apex = features["tree-rotated-scaled"].mesh.positions
    # template apex (0, 0, 5) scaled by 2 on top of refpoint (85015, 446505, 1.5)
    assert apex[:, 2].max() == pytest.approx(11.5)
    assert features["tree-identity"].attributes == {"species": "Tilia"}


# -- polygons with holes and non-convex polygons --------------------------------------
HOLES = {  # object: (outer ring, hole ring) in metres relative to ORIGIN
    "floor-with-hole": (
        [[0, 0, 1], [20, 0, 1], [20, 10, 1], [0, 10, 1]],
        [[8, 3, 1], [8, 7, 1], [12, 7, 1], [12, 3, 1]],
    ),
    "wall-with-window": (
        [[30, 0, 0], [40, 0, 0], [40, 0, 6], [30, 0, 6]],
        [[34, 0, 2], [34, 0, 3.5], [36, 0, 3.5], [36, 0, 2]],
    ),
    "roof-with-chimney": (
        [[50, 0, 5], [60, 0, 5], [60, 6, 8], [50, 6, 8]],
        [[54, 2, 6], [54, 4, 7], [56, 4, 7], [56, 2, 6]],
    ),
}


@pytest.mark.parametrize("oid", sorted(HOLES))
def test_polygon_with_hole(oid: str) -> None:
    outer, hole = (np.asarray(r, dtype=np.float64) + ORIGIN for r in HOLES[oid])
    f = by_id(read_fixture("polygon_with_hole.city.json"))[oid]
    expected = (np.linalg.norm(newell(outer)) - np.linalg.norm(newell(hole))) / 2
    assert mesh_area(f.mesh) == pytest.approx(expected, rel=1e-9)
    assert not covers(f.mesh, hole.mean(axis=0)), "a triangle covers the hole"
    assert covers(f.mesh, (outer[0] * 0.9 + outer[2] * 0.1))  # a point between the rings
    # 8 vertices, one hole: 8 triangles; all facing the outer ring's way
    assert f.mesh.triangle_count == 8
    assert (triangle_normals(f.mesh) @ newell(outer) > 0).all()


NONCONVEX = {  # object: (area, points in a notch that must stay uncovered, inside point)
    "l-shape": (64.0, [[7, 7, 2], [5, 5, 2], [9.9, 9.9, 2]], [2, 8, 2]),
    "u-shape": (96.0, [[26, 7, 2], [26, 9.9, 2], [24.1, 5, 2]], [21, 9, 2]),
    "u-facade": (96.0, [[46, 0, 7], [46, 0, 9.9], [44.1, 0, 5]], [41, 0, 9]),
}


@pytest.mark.parametrize("oid", sorted(NONCONVEX))
def test_nonconvex_polygon(oid: str) -> None:
    area, outside, inside = NONCONVEX[oid]
    f = by_id(read_fixture("nonconvex.city.json"))[oid]
    assert mesh_area(f.mesh) == pytest.approx(area, rel=1e-9)
    for p in outside:
        assert not covers(f.mesh, np.asarray(p) + ORIGIN), p
    assert covers(f.mesh, np.asarray(inside) + ORIGIN)
    normals = triangle_normals(f.mesh)
    assert (normals @ normals[0] > 0).all()  # one consistent winding


# -- parent/child, LoD choice ---------------------------------------------------------
def test_building_parts_are_drawn_with_parent_attributes() -> None:
    data = read_fixture("building_parts.city.json")
    features = by_id(data)
    assert set(features) == {"NL.TWIN.B1-P1", "NL.TWIN.B1-P2", "NL.TWIN.B2"}
    assert data.object_count == 4
    assert any("drawn by their parts" in w for w in data.warnings)
    p1, p2, b2 = features["NL.TWIN.B1-P1"], features["NL.TWIN.B1-P2"], features["NL.TWIN.B2"]
    assert (p1.type, p1.parent_id, p1.lod) == ("BuildingPart", "NL.TWIN.B1", "2.2")
    assert (p2.type, p2.parent_id, p2.lod) == ("BuildingPart", "NL.TWIN.B1", "2.2")
    assert (b2.type, b2.parent_id, b2.lod) == ("Building", None, "1.2")
    parent = {"name": "Teststadhuis", "yearOfConstruction": 1965, "b3_h_dak_max": 9.0}
    assert p1.attributes == {**parent, "roofType": "slanted", "storeys": 3}  # own value wins
    assert p2.attributes == {**parent, "roofType": "flat"}
    assert b2.attributes == {"name": "Schuur"}
    assert p1.mesh.positions[:, 2].max() == pytest.approx(9.0)
    assert p2.mesh.positions[:, 2].max() == pytest.approx(6.0)
    assert data.lods == {"2.2": 2, "1.2": 1}


@pytest.mark.parametrize(
    "pair",
    [
        ("building_parts.city.json", "building_parts.city.jsonl"),
        ("3dbag_b2.city.json", "3dbag_b2.city.jsonl"),
    ],
)
def test_cityjsonseq_equals_cityjson(pair: tuple[str, str]) -> None:
    doc, seq = (read_fixture(n) for n in pair)
    assert seq.format == doc.format
    assert seq.crs_text == doc.crs_text
    assert seq.object_count == doc.object_count
    assert seq.lods == doc.lods
    a, b = by_id(doc), by_id(seq)
    assert set(a) == set(b)
    for oid in a:
        fa, fb = a[oid], b[oid]
        assert (fa.type, fa.parent_id, fa.lod) == (fb.type, fb.parent_id, fb.lod)
        assert fa.attributes == fb.attributes
        assert fa.mesh.triangle_count == fb.mesh.triangle_count
        np.testing.assert_allclose(
            canonical_triangles(fa.mesh), canonical_triangles(fb.mesh), rtol=0, atol=1e-9
        )


@pytest.mark.parametrize(
    ("lod", "chosen", "roof"),
    [
        (None, "2.2", 12.0),  # the highest by default
        ("2.2", "2.2", 12.0),
        ("3", "2.2", 12.0),  # above every LoD: the highest
        ("1.5", "1.3", 11.0),  # the highest at or below the one asked for
        ("1.3", "1.3", 11.0),
        ("1.2", "1.2", 10.0),
        ("1", "1.3", 11.0),  # "1" means any LoD 1.x: the highest of them
        ("2", "2.2", 12.0),
        ("0", "0", 0.0),
    ],
)
def test_lod_choice(lod: str | None, chosen: str, roof: float) -> None:
    data = read_fixture("lods.city.json", lod=lod)
    (f,) = data.features
    assert f.lod == chosen
    assert data.lods == {chosen: 1}
    assert f.mesh.positions[:, 2].max() == pytest.approx(roof)
    assert f.mesh.triangle_count == (2 if chosen == "0" else 12)


# -- semantics ----------------------------------------------------------------------
def test_solid_semantics_follow_each_triangle() -> None:
    f = by_id(read_fixture("semantics_solid.city.json"))["gable-house"]
    s = f.mesh.surfaces
    assert f.mesh.triangle_count == 16  # 2 ground + 2+2+3+3 walls + 2+2 roof
    assert Counter(SURFACE_TYPES[i] for i in s) == {
        "GroundSurface": 2,
        "WallSurface": 10,
        "RoofSurface": 4,
    }
    n = triangle_normals(f.mesh)
    n /= np.linalg.norm(n, axis=1)[:, None]
    centre = f.mesh.positions.mean(axis=0)
    # normals point outwards, and each class sits where it should
    assert (np.einsum("ij,ij->i", n, corners(f.mesh).mean(axis=1) - centre) > 0).all()
    np.testing.assert_allclose(n[s == SURFACE_INDEX["GroundSurface"]], [[0, 0, -1]] * 2, atol=1e-12)
    assert (np.abs(n[s == SURFACE_INDEX["WallSurface"], 2]) < 1e-12).all()
    roof = s == SURFACE_INDEX["RoofSurface"]
    assert (n[roof, 2] > 0.5).all()
    assert (corners(f.mesh)[roof][:, :, 2] >= 3 - 1e-9).all()


def test_triangle_only_surface_semantics_and_degenerate_triangle() -> None:
    data = read_fixture("semantics_solid.city.json")
    f = by_id(data)["square"]
    assert f.mesh.triangle_count == 4  # the collinear fifth triangle is dropped
    assert any("1 degenerate" in w for w in data.warnings)
    by_centroid = {}
    for c, s in zip(corners(f.mesh), f.mesh.surfaces, strict=True):
        x, y, _ = c.mean(axis=0) - ORIGIN
        side = "S" if y < 4 else "N" if y > 6 else "E" if x > 25 else "W"
        by_centroid[side] = SURFACE_TYPES[s]
    # values [0, 1, null, 0]: S traffic, E auxiliary (ring with a closing vertex), N none
    assert by_centroid == {
        "S": "TrafficArea",
        "E": "AuxiliaryTrafficArea",
        "N": "",
        "W": "TrafficArea",
    }
    assert mesh_area(f.mesh) == pytest.approx(100.0)


def test_lod_request_met_by_parent_draws_the_parent() -> None:
    features = by_id(read_fixture("building_parts.city.json", lod="0"))
    assert features["NL.TWIN.B1"].lod == "0"
    assert "NL.TWIN.B1-P1" not in features
