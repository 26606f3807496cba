"""CityJSON appearances read into the model: themes, materials, images and texture
coordinates that follow the triangulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tiles import ConvertOptions, convert, readers
from tiles.model import SourceData

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cityjson" / "textured"
TEXTURED = FIXTURE / "textured.city.json"
ROTTERDAM = "cityjson-rotterdam-textured/rotterdam_subset.json"


def source_rings(path: Path, theme: str) -> dict[str, list[tuple[np.ndarray, np.ndarray, str]]]:
    """Per object: every textured polygon's points (all rings), their uvs and its image."""
    doc = json.loads(path.read_text())
    scale = np.array(doc["transform"]["scale"]) if "transform" in doc else np.ones(3)
    shift = np.array(doc["transform"]["translate"]) if "transform" in doc else np.zeros(3)
    verts = np.array(doc["vertices"], dtype=np.float64) * scale + shift
    app = doc["appearance"]
    uv = np.array(app["vertices-texture"], dtype=np.float32)
    out: dict[str, list[tuple[np.ndarray, np.ndarray, str]]] = {}
    for oid, obj in doc["CityObjects"].items():
        for g in obj.get("geometry", []):
            tex = g.get("texture", {}).get(theme)
            if not tex:
                continue
            depth = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2}[g["type"]]
            for rings, specs in _surfaces(g["boundaries"], tex["values"], depth):
                if specs[0][0] is None:
                    continue
                image = app["textures"][specs[0][0]]["image"]
                points = np.concatenate([verts[ring] for ring in rings])
                uvs = np.concatenate([uv[spec[1:]] for spec in specs])
                out.setdefault(oid, []).append((points, uvs, image))
    return out


def _surfaces(b: list[Any], values: list[Any], depth: int) -> list[tuple[Any, Any]]:
    if depth == 1:
        return list(zip(b, values, strict=True))
    return [s for bb, vv in zip(b, values, strict=True) for s in _surfaces(bb, vv, depth - 1)]


def check_uvs(data: SourceData, rings: dict[str, list[tuple[np.ndarray, np.ndarray, str]]]) -> int:
    """Every textured triangle lies on a source polygon with its image, and each of its
    vertices has the uv that polygon gives the same point. Returns the triangles checked."""
    checked = 0
    for f in data.features:
        mesh = f.mesh
        if mesh.materials is None:
            continue
        assert mesh.uvs is not None
        polygons = rings[f.id]
        at: dict[tuple[float, ...], set[int]] = {}  # a point -> the polygons through it
        for i, (points, _, _) in enumerate(polygons):
            for p in map(tuple, points.tolist()):
                at.setdefault(p, set()).add(i)
        for t, m in zip(mesh.triangles, mesh.materials, strict=True):
            mat = data.materials[m] if m >= 0 else None
            if mat is None or mat.image is None:
                continue
            image = data.images[mat.image].name
            found = False
            corners = [at.get(tuple(mesh.positions[v].tolist()), set()) for v in t]
            for i in sorted(corners[0] & corners[1] & corners[2]):
                points, uvs, ring_image = polygons[i]
                match = [np.flatnonzero((points == mesh.positions[v]).all(axis=1)) for v in t]
                if ring_image != image:
                    continue
                got = mesh.uvs[t]
                want = np.array([uvs[k[0]] for k in match])
                if np.allclose(got, want, atol=1e-6):
                    found = True
                    break
            assert found, f"{f.id}: triangle {t.tolist()} has no source ring with its uvs"
            checked += 1
    return checked


def test_fixture_uvs_follow_the_triangulation() -> None:
    data = readers.read(TEXTURED, ConvertOptions())
    # A's four walls and roof (2 triangles each); B's roof, south and east walls, and its
    # west wall with a window hole (8 triangles), whose hole vertices carry their own uvs.
    assert check_uvs(data, source_rings(TEXTURED, "photo")) == 5 * 2 + 3 * 2 + 8
    b = next(f for f in data.features if f.id == "B").mesh
    assert b.uvs is not None
    west = np.unique(b.triangles[(b.positions[b.triangles, 0] == 85020.0).all(axis=1)])
    assert west.size == 8  # the outer ring's and the hole's corners
    y, z = b.positions[west, 1] - 446500.0, b.positions[west, 2]
    np.testing.assert_allclose(b.uvs[west, 0], y / 10, atol=1e-6)  # u = y / 10
    np.testing.assert_allclose(b.uvs[west, 1], z / 6, atol=1e-6)  # v = z / 6


def test_fixture_materials_themes_and_images() -> None:
    data = readers.read(TEXTURED, ConvertOptions())
    assert data.themes == ["photo", "winter"]
    assert data.themes_used == ["photo"]
    names = [img.name for img in data.images]
    assert sorted(names) == [
        "appearance/checker.png",
        "appearance/missing.jpg",
        "appearance/roof.png",
        "appearance/stripes.png",
    ]
    assert all(img.path is not None for img in data.images)  # inside the folder
    by_name = {m.name: m for m in data.materials}
    glass = by_name["glass"]
    assert glass.image is None
    assert glass.color == pytest.approx((0.2, 0.3, 0.9, 0.5))
    assert by_name["brick"].has_color
    checker = by_name["appearance/checker.png"]
    assert not checker.has_color
    assert data.images[checker.image].name == "appearance/checker.png"  # type: ignore[index]
    stripes = by_name["appearance/stripes.png"]
    assert stripes.wrap == "repeat"
    # B's north wall is glass, its ground has no appearance (-1).
    b = next(f for f in data.features if f.id == "B").mesh
    assert b.materials is not None
    assert (b.materials == -1).sum() == 2
    assert [data.materials[m].name for m in b.materials if m >= 0].count("glass") == 2


def test_theme_option_picks_the_theme() -> None:
    data = readers.read(TEXTURED, ConvertOptions(appearance_theme="winter"))
    assert data.themes_used == ["winter"]
    assert check_uvs(data, source_rings(TEXTURED, "winter")) == 4 * 2
    a = next(f for f in data.features if f.id == "A").mesh
    assert a.materials is not None
    images = {data.images[data.materials[m].image].name for m in a.materials if m >= 0}  # type: ignore[index]
    assert images == {"appearance/roof.png"}
    b = next(f for f in data.features if f.id == "B").mesh
    assert b.materials is None  # B has no "winter" appearance


def test_unknown_theme_is_a_warning_naming_the_themes() -> None:
    data = readers.read(TEXTURED, ConvertOptions(appearance_theme="summer"))
    assert all(f.mesh.materials is None for f in data.features)
    assert any("'summer' not found" in w and "photo, winter" in w for w in data.warnings), (
        data.warnings
    )


def test_sequence_with_feature_appearances_reads_like_the_document() -> None:
    doc = readers.read(TEXTURED, ConvertOptions())
    seq = readers.read(FIXTURE / "textured.city.jsonl", ConvertOptions())
    assert [m.name for m in seq.materials] == [m.name for m in doc.materials]
    assert [i.name for i in seq.images] == [i.name for i in doc.images]
    for a, b in zip(doc.features, seq.features, strict=True):
        np.testing.assert_array_equal(a.mesh.materials, b.mesh.materials)
        np.testing.assert_array_equal(a.mesh.uvs, b.mesh.uvs)


def _copy(tmp_path: Path, edit: Any) -> Path:
    doc = json.loads(TEXTURED.read_text())
    edit(doc)
    (tmp_path / "appearance").mkdir()
    for png in (FIXTURE / "appearance").iterdir():
        (tmp_path / "appearance" / png.name).write_bytes(png.read_bytes())
    out = tmp_path / "edited.city.json"
    out.write_text(json.dumps(doc))
    return out


def test_wrong_uv_count_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    def drop_uv(doc: dict[str, Any]) -> None:
        ring = doc["CityObjects"]["A"]["geometry"][0]["texture"]["photo"]["values"][0][2][0]
        ring.pop()  # a wall ring with three uvs for four vertices

    data = readers.read(_copy(tmp_path, drop_uv), ConvertOptions())
    assert any("1 textured rings have a texture coordinate count" in w for w in data.warnings)
    assert sum(f.mesh.triangle_count for f in data.features) == 30
    a = next(f for f in data.features if f.id == "A").mesh
    assert a.materials is not None
    assert (a.materials >= 0).sum() == 12 - 2  # the wall without uvs is drawn untextured


@pytest.mark.parametrize("uri", ["../outside.png", "/etc/passwd", "http://example.org/a.png"])
def test_image_outside_the_folder_is_never_read(tmp_path: Path, uri: str) -> None:
    (tmp_path / "outside.png").write_bytes((FIXTURE / "appearance" / "checker.png").read_bytes())
    src = tmp_path / "in"
    src.mkdir()

    def point_away(doc: dict[str, Any]) -> None:
        doc["appearance"]["textures"][0]["image"] = uri

    source = _copy(src, point_away)
    data = readers.read(source, ConvertOptions())
    assert next(i for i in data.images if i.name == uri).path is None
    report = convert(source, tmp_path / "out")
    assert report.appearance["missing_images"][uri] == 8  # A's four walls
    assert any(uri in w and "not found" in w for w in report.warnings)


@pytest.mark.shared_data
def test_rotterdam_uvs_follow_the_triangulation(shared_data: Path) -> None:
    source = shared_data / ROTTERDAM
    data = readers.read(source, ConvertOptions(crs="EPSG:7415"))
    rings = source_rings(source, "rgbTexture")
    assert check_uvs(data, rings) > 500
    assert data.themes == ["rgbTexture"]
    assert len(data.images) == 74


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>', "cannot be read"),
        (b"<html><body>not an image</body></html>", "cannot be read"),
        ("gif", "is GIF, not PNG, JPEG or WebP"),
        ("huge", "is too large (9000 × 9000 pixels)"),
    ],
)
def test_image_that_is_not_a_usable_image_is_a_warning(
    tmp_path: Path, content: bytes | str, reason: str
) -> None:
    (tmp_path / "src").mkdir()
    source = _copy(tmp_path / "src", lambda doc: None)
    target = source.parent / "appearance" / "checker.png"
    if content == "gif":
        Image.new("RGB", (4, 4)).save(target, "GIF")
    elif content == "huge":
        Image.new("1", (9000, 9000)).save(target, "PNG")  # small file, many pixels
    else:
        assert isinstance(content, bytes)
        target.write_bytes(content)
    report = convert(source, tmp_path / "out")
    assert report.appearance["missing_images"]["appearance/checker.png"] == 8
    assert any(f"'appearance/checker.png' {reason}" in w for w in report.warnings), report.warnings
