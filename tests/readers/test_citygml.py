"""CityGML 2.0/3.0 reader: objects, geometry, attributes, axis order and hostile XML."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from glbtools import load_tileset, root_transform
from lxml import etree
from test_convert import _tiles_by_object, assert_same, expected_ecef

from tiles import ConvertOptions, convert
from tiles.errors import EmptyInput, NonFiniteCoordinate, UnsafeXML
from tiles.gltf_validator import validate_glbs
from tiles.model import SURFACE_INDEX, Feature, SourceData
from tiles.readers import citygml, sniff
from tiles.validate import check_tileset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "citygml"
SMALL_V2 = FIXTURES / "small_v2.gml"
SMALL_V3 = FIXTURES / "small_v3_6697.gml"
TOKYO = "citygml3-plateau-tokyo-meiji-gallery/53394517_bldg_6697_2_op_CityGML{}.gml"
OPERA = "citygml3-lyon-opera/Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FullyStructured.gml"
HOUSE = "citygml2-lyon-house-textured/LYON_1ER_BATI_2015_small_house.gml"


def read(path: Path, **kw: str) -> SourceData:
    return citygml.read(path, ConvertOptions(**kw))


def by_id(data: SourceData) -> dict[str, Feature]:
    return {f.id: f for f in data.features}


def sorted_triangles(f: Feature) -> np.ndarray:
    tris = f.mesh.positions[f.mesh.triangles]  # (m, 3, 3)
    # Each triangle's corners in a canonical order, then the triangles sorted.
    corners = np.array([sorted(map(tuple, t)) for t in tris.round(9)])
    flat = corners.reshape(len(corners), -1)
    return flat[np.lexsort(flat.T[::-1])]


def gml_points(path: Path, oid: str) -> np.ndarray:
    """Every posList point under the object with gml:id ``oid`` (independent of the reader)."""
    tree = etree.parse(str(path))
    ids = ("{http://www.opengis.net/gml}id", "{http://www.opengis.net/gml/3.2}id")
    obj = next(e for e in tree.iter() if isinstance(e.tag, str) and oid in map(e.get, ids))
    assert obj is not None
    vals = [float(v) for p in obj.iter("{*}posList") for v in (p.text or "").split()]
    return np.array(vals).reshape(-1, 3)


# -- the small committed fixtures ---------------------------------------------------------
def test_sniff_picks_citygml() -> None:
    assert sniff(SMALL_V2) is citygml
    assert sniff(SMALL_V3) is citygml


def test_small_v2_objects_types_parents_and_lods() -> None:
    data = read(SMALL_V2)
    assert data.format == "CityGML 2.0"
    assert data.crs_text == "urn:ogc:def:crs:EPSG::3946"
    assert data.axis_order == "xy"
    f = by_id(data)
    assert {k: v.type for k, v in f.items()} == {
        "B1": "Building",
        "B1_chimney": "BuildingInstallation",
        "B1_part": "BuildingPart",
        "T1": "SolitaryVegetationObject",
        "T2": "SolitaryVegetationObject",
        "R1_tin": "TINRelief",
        "ROAD1": "Road",
        "W1": "WaterBody",
        "G1": "GenericCityObject",
    }
    assert f["B1_part"].parent_id == "B1"
    assert f["B1_chimney"].parent_id == "B1"
    assert f["R1_tin"].parent_id == "R1"
    assert f["B1"].lod == "2"
    assert f["W1"].lod == "1"
    assert f["R1_tin"].lod == "1"
    assert f["R1_tin"].mesh.triangle_count == 2
    assert data.object_count == 10
    assert not any("several CRSs" in w for w in data.warnings)


def test_solid_xlinks_and_boundary_surfaces_drawn_once_with_semantics() -> None:
    b1 = by_id(read(SMALL_V2))["B1"]
    assert b1.mesh.triangle_count == 12  # six quads, not twelve
    counts = np.bincount(b1.mesh.surfaces, minlength=4)
    assert counts[SURFACE_INDEX["RoofSurface"]] == 2
    assert counts[SURFACE_INDEX["WallSurface"]] == 8
    assert counts[SURFACE_INDEX["GroundSurface"]] == 2
    road = by_id(read(SMALL_V2))["ROAD1"]
    assert set(road.mesh.surfaces.tolist()) == {SURFACE_INDEX["TrafficArea"]}


def test_lod_option_picks_lod1_solid() -> None:
    b1 = by_id(read(SMALL_V2, lod="1"))["B1"]
    assert b1.lod == "1"
    assert b1.mesh.triangle_count == 12
    assert set(b1.mesh.surfaces.tolist()) == {0}


def test_implicit_geometry_placed_and_shared_by_xlink() -> None:
    f = by_id(read(SMALL_V2))
    for oid, x in (("T1", 1841050.0), ("T2", 1841060.0)):
        pos = f[oid].mesh.positions
        # Template triangle (-1,0,0) (1,0,0) (0,0,4) scaled x2 in x and y, moved to the point.
        want = np.array(
            [[x - 2, 5175050.0, 200.0], [x + 2, 5175050.0, 200.0], [x, 5175050.0, 204.0]]
        )
        assert np.allclose(np.sort(pos, axis=0), np.sort(want, axis=0))


def test_orientable_surface_minus_reverses() -> None:
    g1 = by_id(read(SMALL_V2))["G1"]
    p = g1.mesh.positions[g1.mesh.triangles[0]]
    normal = np.cross(p[1] - p[0], p[2] - p[0])
    assert normal[2] < 0  # the ring is counter-clockwise from above; "-" turns it down


def test_attributes_typed_with_ade_namespace_prefix() -> None:
    data = read(SMALL_V2)
    a = by_id(data)["B1"].attributes
    assert a["owner"] == "municipality"
    assert a["floors_total"] == 3
    assert a["area"] == 100.5
    assert a["volume"] == 600.0
    assert a["energy.label"] == "A"
    assert a["class"] == "1000"
    assert a["yearOfConstruction"] == 1901
    assert a["measuredHeight"] == 6.0
    assert a["storeysAboveGround"] == 2
    assert a["address"] == "France, Lyon"
    assert a["name"] == "Town hall"
    assert a["demo:energyClass"] == "B"
    assert a["demo:details.roofArea"] == 100.0
    assert any("demo = https://example.org/ade/demo/1.0" in w for w in data.warnings)
    part = by_id(data)["B1_part"].attributes
    assert part["function"] == "annex"  # its own value over the parent's
    assert part["owner"] == "municipality"  # inherited


def test_citygml3_latitude_first_generic_attributes_and_ade() -> None:
    data = read(SMALL_V3)
    assert data.format == "CityGML 3.0"
    assert data.axis_order == "yx"
    j1 = by_id(data)["J1"]
    assert j1.mesh.triangle_count == 12
    assert j1.attributes["建物ID"] == "13104-bldg-1"
    assert j1.attributes["rank"] == 7
    assert j1.attributes["ratio"] == 0.25
    assert j1.attributes["storeysAboveGround"] == 3
    assert j1.attributes["uro:buildingDetails.surveyYear"] == "2016"


def _check_placement(source: Path, out: Path, options: ConvertOptions, crs: str, axes: str) -> None:
    report = convert(source, out, options)
    tileset, glbs = load_tileset(out)
    assert check_tileset(out / "tileset.json") == []
    reports = validate_glbs([out / "tiles" / p.name for p in (out / "tiles").glob("*.glb")])
    for path, r in reports.items():
        assert r.errors == 0, (path.name, r.messages[:5])
    data = citygml.read(source, options)
    features = by_id(data)
    objects = _tiles_by_object(glbs)
    assert len(objects) == report.feature_count
    m = root_transform(tileset)
    for oid, (glb, row) in objects.items():
        fid = glb.attribute("_FEATURE_ID_0")
        mine = glb.ecef_positions(m)[fid == row]
        src = features[oid].mesh.positions
        want = expected_ecef(crs, axes, src)
        d = np.linalg.norm(want[:, None, :] - mine[None, :, :], axis=2).min(axis=1)
        assert float(d.max()) < 0.01, oid
        table, names = glb.property_table(0), glb.names(0)
        ids = {name: pid for pid, name in names.items()}
        assert table["type"][row] == features[oid].type
        for name, value in features[oid].attributes.items():
            assert name in ids, f"{oid}: attribute {name!r} missing"
            assert_same(table[ids[name]][row], value, f"{oid}.{name}")


def test_small_v2_converts_in_place(tmp_path: Path) -> None:
    _check_placement(SMALL_V2, tmp_path / "out", ConvertOptions(), "EPSG:3946", "xy")


def test_latitude_first_6697_lands_in_tokyo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _check_placement(SMALL_V3, out, ConvertOptions(), "EPSG:6697", "yx")
    report = convert(SMALL_V3, tmp_path / "again")
    assert report.axis_order == "yx"
    west, south, east, north = report.extent
    assert 139.70 < west < east < 139.73
    assert 35.67 < south < north < 35.69


def test_source_points_match_an_independent_parse() -> None:
    f = by_id(read(SMALL_V3))["J1"]
    src = gml_points(SMALL_V3, "J1")
    d = np.abs(src[:, None, :] - f.mesh.positions[None, :, :]).sum(axis=2).min(axis=1)
    assert d.max() < 1e-9


# -- errors and hostile XML -----------------------------------------------------------
HEADER = '<?xml version="1.0"?>\n'
MODEL = (
    '<CityModel xmlns="http://www.opengis.net/citygml/2.0" '
    'xmlns:bldg="http://www.opengis.net/citygml/building/2.0" '
    'xmlns:gml="http://www.opengis.net/gml">{}</CityModel>'
)


def _building(poslist: str) -> str:
    return (
        '<cityObjectMember><bldg:Building gml:id="X"><bldg:lod1MultiSurface><gml:MultiSurface>'
        "<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>"
        f"{poslist}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
        "</gml:surfaceMember></gml:MultiSurface></bldg:lod1MultiSurface></bldg:Building>"
        "</cityObjectMember>"
    )


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE CityModel [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE CityModel SYSTEM "http://example.invalid/evil.dtd">',
        '<!DOCTYPE CityModel [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
        '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
        '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
        '<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>',
    ],
    ids=["xxe", "external-dtd", "billion-laughs"],
)
def test_doctype_refused_quickly(tmp_path: Path, doctype: str) -> None:
    path = tmp_path / "evil.gml"
    body = _building("0 0 0 1 0 0 1 1 0 0 0 0")
    path.write_text(HEADER + doctype + MODEL.format(body), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(UnsafeXML) as info:
        read(path)
    assert time.perf_counter() - started < 1
    assert info.value.code == "unsafe_xml"
    assert "root:" not in info.value.message


def test_doctype_after_a_long_prolog_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.gml"
    comment = "<!--" + "x" * 70_000 + "-->"
    doctype = '<!DOCTYPE CityModel [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    path.write_text(HEADER + comment + doctype + MODEL.format(_building("0 0 0 1 0 0 1 1 0 0 0 0")))
    with pytest.raises(UnsafeXML):
        read(path)


def test_non_finite_coordinate_names_the_object(tmp_path: Path) -> None:
    path = tmp_path / "nan.gml"
    path.write_text(HEADER + MODEL.format(_building("0 0 0 1 0 NaN 1 1 0 0 0 0")))
    with pytest.raises(NonFiniteCoordinate) as info:
        read(path)
    assert info.value.object_id == "X"


def test_no_city_object_is_empty_input(tmp_path: Path) -> None:
    path = tmp_path / "empty.gml"
    path.write_text(HEADER + MODEL.format(""))
    with pytest.raises(EmptyInput):
        read(path)


def test_missing_srs_gives_no_crs(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.gml"
    path.write_text(HEADER + MODEL.format(_building("0 0 0 1 0 0 1 1 0 0 0 0")))
    data = read(path)
    assert data.crs_text is None
    assert data.axis_order is None


# -- the real exports in ../shared/data ----------------------------------------------------
@pytest.mark.shared_data
def test_tokyo_2_and_3_give_the_same_geometry(shared_data: Path) -> None:
    two = read(shared_data / TOKYO.format(2))
    three = read(shared_data / TOKYO.format(3))
    assert two.format == "CityGML 2.0"
    assert three.format == "CityGML 3.0"
    assert two.axis_order == three.axis_order == "yx"
    a, b = by_id(two), by_id(three)
    assert sorted(a) == sorted(b) == ["BLD_77ca1a15-3b35-4386-8f86-152ed71c4c64"]
    for oid in a:
        assert a[oid].lod == b[oid].lod == "2"
        ta, tb = sorted_triangles(a[oid]), sorted_triangles(b[oid])
        assert ta.shape == tb.shape
        assert np.abs(ta - tb).max() < 1e-6
        assert np.array_equal(np.sort(a[oid].mesh.surfaces), np.sort(b[oid].mesh.surfaces))
        shared = {k for k in a[oid].attributes if not k.startswith(("measuredHeight", "height."))}
        assert shared <= set(b[oid].attributes)
        for k in shared:
            assert a[oid].attributes[k] == b[oid].attributes[k], k
        assert a[oid].attributes["uro:buildingDetails.buildingRoofEdgeArea"] == 2513.8552


@pytest.mark.shared_data
@pytest.mark.parametrize("version", [2, 3])
def test_tokyo_lands_in_place(shared_data: Path, tmp_path: Path, version: int) -> None:
    source = shared_data / TOKYO.format(version)
    _check_placement(source, tmp_path / "out", ConvertOptions(), "EPSG:6697", "yx")
    report = convert(source, tmp_path / "again")
    assert report.axis_order == "yx"
    lon = (report.extent[0] + report.extent[2]) / 2
    lat = (report.extent[1] + report.extent[3]) / 2
    assert 139.70 < lon < 139.73
    assert 35.67 < lat < 35.69


@pytest.mark.shared_data
def test_lyon_opera(shared_data: Path, tmp_path: Path) -> None:
    data = read(shared_data / OPERA)
    assert data.format == "CityGML 3.0"
    assert data.crs_text == "EPSG:3946"
    (f,) = data.features
    assert f.type == "Building"
    assert f.id == "OPERA_LYON_45"
    assert f.attributes["address"].startswith("France, Lyon")
    assert f.mesh.triangle_count > 2000
    _check_placement(shared_data / OPERA, tmp_path / "out", ConvertOptions(), "EPSG:3946", "xy")


@pytest.mark.shared_data
def test_lyon_house_needs_a_crs(shared_data: Path, tmp_path: Path) -> None:
    data = read(shared_data / HOUSE)
    assert data.crs_text is None
    assert [(f.id, f.type, f.parent_id) for f in data.features] == [
        ("BU_69381AB133_1", "BuildingPart", "BU_69381AB133")
    ]
    opts = ConvertOptions(crs="EPSG:3946")
    _check_placement(shared_data / HOUSE, tmp_path / "out", opts, "EPSG:3946", "xy")


FORWARD = FIXTURES / "forward_xlink_v2.gml"


def test_forward_xlink_to_a_later_object_is_resolved() -> None:
    """FW1 draws a wall that FW2, the next city object in the file, defines."""
    data = read(FORWARD)
    assert not [w for w in data.warnings if "xlink" in w]
    f = by_id(data)
    assert f["FW1"].mesh.triangle_count == 4  # its roof and FW2's wall
    assert f["FW2"].mesh.triangle_count == 4
    wall = gml_points(FORWARD, "FW2_wall")
    assert all(any(np.allclose(p, q) for q in f["FW1"].mesh.positions) for p in wall)
    # Forward within one object (a Solid of xlinks to its boundary surfaces, defined later)
    # needs no first pass: only references into a later member do.
    assert citygml._Reader(FORWARD, ConvertOptions())._references()[1] == {"FW2_wall"}
    assert citygml._Reader(SMALL_V2, ConvertOptions())._references()[1] == set()


def test_missing_xlink_target_is_a_warning(tmp_path: Path) -> None:
    text = FORWARD.read_text().replace('xlink:href="#FW2_wall"', 'xlink:href="#nowhere"')
    (tmp_path / "missing.gml").write_text(text)
    data = read(tmp_path / "missing.gml")
    assert by_id(data)["FW1"].mesh.triangle_count == 2
    assert any("1 xlink:href geometry references could not be resolved" in w for w in data.warnings)
