"""CityGML 2.0/3.0 appearances: X3DMaterial colours and ParameterizedTexture coordinates
that follow the triangulation; 2.0 and 3.0 of the same building agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from tiles import ConvertOptions, convert, readers
from tiles.gltf_validator import validate_glbs

from .test_appearance_cityjson import check_uvs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "citygml" / "textured"
TOKYO = "citygml3-plateau-tokyo-meiji-gallery/53394517_bldg_6697_2_op_CityGML{}.gml"
LYON = "citygml2-lyon-house-textured/LYON_1ER_BATI_2015_small_house.gml"
GML_ID = ("{http://www.opengis.net/gml}id", "{http://www.opengis.net/gml/3.2}id")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _id(e: etree._Element) -> str | None:
    return next((e.get(k) for k in GML_ID if e.get(k)), None)


def source_polygons(path: Path) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Every textured polygon of the file (any theme): its points and uvs (all rings) and
    image, parsed here independently of the reader."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    ring_uv: dict[str, tuple[np.ndarray, str]] = {}
    for tex in tree.iter("{*}ParameterizedTexture"):
        image = next(c.text for c in tex if _local(c.tag) == "imageURI").strip()
        for tcl in tex.iter("{*}TexCoordList"):
            coords = [c for c in tcl if _local(c.tag) == "textureCoordinates"]
            refs = [c.text.strip() for c in tcl if _local(c.tag) == "ring"]
            for k, c in enumerate(coords):
                ref = c.get("ring") or refs[k]
                uv = np.array(c.text.split(), dtype=np.float64).reshape(-1, 2)
                ring_uv[ref.lstrip("#")] = (uv.astype(np.float32), image)
    out = []
    for poly in tree.iter("{*}Polygon"):
        rings = [r for r in poly.iter("{*}LinearRing")]
        if not rings or _id(rings[0]) not in ring_uv:
            continue
        pts, uvs = [], []
        for r in rings:
            pos = next(r.iter("{*}posList"))
            pts.append(np.array(pos.text.split(), dtype=np.float64).reshape(-1, 3))
            uvs.append(ring_uv[_id(r)][0])
        out.append((np.concatenate(pts), np.concatenate(uvs), ring_uv[_id(rings[0])][1]))
    return out


def _check(path: Path, options: ConvertOptions) -> int:
    data = readers.read(path, options)
    polygons = source_polygons(path)
    return check_uvs(data, {f.id: polygons for f in data.features})


@pytest.mark.parametrize("version", [2, 3])
def test_fixture_textures_and_materials(version: int) -> None:
    path = FIXTURES / f"textured_v{version}.gml"
    assert _check(path, ConvertOptions()) == 8  # four walls, two triangles each
    data = readers.read(path, ConvertOptions())
    assert data.themes == ["photo", "night"]
    assert data.themes_used == ["photo"]
    assert [i.name for i in data.images] == ["appearance/checker.png"]
    mesh = data.features[0].mesh
    assert mesh.materials is not None
    by_surface = {
        s: {data.materials[m].name for m in mesh.materials[mesh.surfaces == s] if m >= 0}
        for s in np.unique(mesh.surfaces).tolist()
    }
    assert by_surface == {1: {"X3DMaterial 0"}, 2: {"appearance/checker.png"}, 3: set()}
    roof = next(m for m in data.materials if m.image is None)
    assert roof.color == pytest.approx((0.8, 0.1, 0.1, 1.0))
    assert any("1 GeoreferencedTexture appearances are not supported" in w for w in data.warnings)


def test_fixture_theme_option_and_2_0_equals_3_0() -> None:
    night = readers.read(FIXTURES / "textured_v2.gml", ConvertOptions(appearance_theme="night"))
    assert night.themes_used == ["night"]
    assert [m.color for m in night.materials] == [pytest.approx((0.1, 0.1, 0.3, 1.0))]
    a = readers.read(FIXTURES / "textured_v2.gml", ConvertOptions())
    b = readers.read(FIXTURES / "textured_v3.gml", ConvertOptions())
    np.testing.assert_array_equal(a.features[0].mesh.positions, b.features[0].mesh.positions)
    np.testing.assert_array_equal(a.features[0].mesh.uvs, b.features[0].mesh.uvs)
    np.testing.assert_array_equal(a.features[0].mesh.materials, b.features[0].mesh.materials)


def test_fixture_converts_to_a_valid_textured_glb(tmp_path: Path) -> None:
    report = convert(FIXTURES / "textured_v3.gml", tmp_path / "out")
    assert report.appearance["textures_embedded"] == 1
    assert report.appearance["themes_used"] == ["photo"]
    (result,) = validate_glbs(list((tmp_path / "out" / "tiles").glob("*.glb"))).values()
    assert result.errors == 0


@pytest.mark.shared_data
def test_tokyo_2_0_and_3_0_give_the_same_geometry_and_uvs(shared_data: Path) -> None:
    a = readers.read(shared_data / TOKYO.format(2), ConvertOptions())
    b = readers.read(shared_data / TOKYO.format(3), ConvertOptions())
    assert [f.id for f in a.features] == [f.id for f in b.features]
    for fa, fb in zip(a.features, b.features, strict=True):
        np.testing.assert_array_equal(fa.mesh.positions, fb.mesh.positions)
        np.testing.assert_array_equal(fa.mesh.triangles, fb.mesh.triangles)
        np.testing.assert_array_equal(fa.mesh.uvs, fb.mesh.uvs)
        np.testing.assert_array_equal(fa.mesh.materials, fb.mesh.materials)
    assert [i.name for i in a.images] == ["53394517_bldg_6697_appearance/stad0158.jpg"]
    assert a.images[0].path is not None
    assert a.images[0].path.is_file()


@pytest.mark.shared_data
@pytest.mark.parametrize("version", [2, 3])
def test_tokyo_uvs_follow_the_triangulation(shared_data: Path, version: int) -> None:
    assert _check(shared_data / TOKYO.format(version), ConvertOptions()) > 2000


@pytest.mark.shared_data
def test_lyon_uvs_and_a_valid_textured_tileset(shared_data: Path, tmp_path: Path) -> None:
    options = ConvertOptions(crs="EPSG:3946")
    assert _check(shared_data / LYON, options) == 20
    report = convert(shared_data / LYON, tmp_path / "out", options)
    assert report.appearance["themes_used"] == ["RhinoCity ObliqueTexturing"]
    assert report.appearance["textures_embedded"] == 1
    assert report.appearance["missing_images"] == {}
    (result,) = validate_glbs(list((tmp_path / "out" / "tiles").glob("*.glb"))).values()
    assert result.errors == 0


def test_targets_naming_an_aggregate_reach_its_polygons(tmp_path: Path) -> None:
    """A target may name a Solid, a MultiSurface or a TriangulatedSurface: its member
    polygons take its appearance (with or without ids of their own, reached directly or
    through xlink:href), and a polygon's own target comes first."""
    path = FIXTURES / "aggregates_v2.gml"
    data = readers.read(path, ConvertOptions())
    assert not [w for w in data.warnings if "appearance" in w or "xlink" in w]
    f = {x.id: x for x in data.features}
    ag, tin = f["AG"].mesh, f["TIN"].mesh
    assert ag.materials is not None
    assert tin.materials is not None
    colour = {
        s: {data.materials[m].color[:3] for m in ag.materials[ag.surfaces == s]} for s in (1, 2, 3)
    }
    images = {
        s: {data.materials[m].image for m in ag.materials[ag.surfaces == s]} for s in (1, 2, 3)
    }
    assert colour[3] == {(0.1, 0.6, 0.2)}  # ground: only in the Solid (by xlink:href)
    assert colour[1] == {(0.8, 0.1, 0.1)}  # roof: its own target over the Solid's
    assert images[1] == images[3] == {None}
    # All four walls (two without a gml:id) take the MultiSurface's texture...
    assert ag.surfaces.tolist().count(2) == 8
    assert {data.images[i].name for i in images[2] if i is not None} == {"appearance/checker.png"}
    assert None not in images[2]
    # ... with the coordinates of their rings.
    assert _check(path, ConvertOptions()) == 8
    # The canopy's triangles have no ids: the TriangulatedSurface's colour.
    assert {data.materials[m].color[:3] for m in tin.materials} == {(0.2, 0.2, 0.9)}
    report = convert(path, tmp_path / "out")
    assert report.appearance["textures_embedded"] == 1
    glbs = sorted((tmp_path / "out").rglob("*.glb"))
    for result in validate_glbs(glbs, max_issues=0).values():
        assert result.errors == 0, result.messages[:5]
