"""Parent tiles of textured sources keep their textures, at a reduced size (tiles/lod.py).

A decimated mesh keeps its texture coordinates (every kept vertex is an original vertex
with its own coordinate; texture seams stay seams), the parent's images are halved per
level above the leaves, and a block of a textured building is coloured with the mean
colour of the object's textures.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import textured_mesh
from glbtools import Glb, root_transform
from PIL import Image
from pyproj import Transformer

from tiles import ConvertOptions, convert, lod
from tiles.gltf_validator import validate_glbs
from tiles.model import SURFACE_INDEX, Feature, Material, Mesh, SourceData, TextureImage
from tiles.textures import prepare

ORIGIN = (361000.0, 6214000.0, 20.0)  # Helsingborg, SWEREF 99 TM
OPTIONS = ConvertOptions(crs="EPSG:3006", origin=ORIGIN, max_tile_bytes=300_000)
TO_3006 = Transformer.from_crs("EPSG:4978", "EPSG:3006", always_xy=True)


def _walk(tile: dict[str, Any], depth: int = 0) -> list[tuple[dict[str, Any], int]]:
    out = [(tile, depth)]
    for child in tile.get("children", []):
        out.extend(_walk(child, depth + 1))
    return out


def _levels(tile: dict[str, Any]) -> int:
    """Levels of tiles below ``tile`` (0 for a leaf)."""
    return 1 + max(_levels(c) for c in tile["children"]) if tile.get("children") else 0


@pytest.fixture(scope="module")
def terrain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("textured-terrain")
    source = textured_mesh.write(folder / "src")
    report = convert(source, folder / "out", OPTIONS)
    return folder / "out", report


def _classify(rgb: np.ndarray) -> np.ndarray:
    """0 magenta, 1 green, 2 grey: the nearest of the fixture's three colours."""
    palette = np.array([textured_mesh.MAGENTA, textured_mesh.GREEN, textured_mesh.GREY])
    d = np.linalg.norm(rgb[:, None, :].astype(float) - palette[None, :, :], axis=2)
    return np.asarray(d.argmin(axis=1))


def _texel_check(glb: Glb, m: np.ndarray) -> tuple[int, int]:
    """For every textured triangle away from the checker's cell edges: does the texel at
    its texture coordinates have the checker colour of the ground under it? Returns
    (triangles checked, triangles whose texel is right)."""
    checked = right = 0
    for p, prim in enumerate(glb.primitives):
        tex = glb.json["materials"][prim["material"]]["pbrMetallicRoughness"].get(
            "baseColorTexture"
        )
        if tex is None:
            continue
        img = np.asarray(Image.open(io.BytesIO(glb.image(tex["index"]))).convert("RGB"))
        h, w = img.shape[:2]
        ecef = glb.primitive_ecef(p, m)
        x, y = TO_3006.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2])[:2]
        x, y = np.asarray(x) - ORIGIN[0], np.asarray(y) - ORIGIN[1]
        uv = glb.primitive_attribute(p, "TEXCOORD_0")
        tris = glb.primitive_indices(p).reshape(-1, 3)
        magenta = textured_mesh.checker(x, y)
        inside = (magenta[tris] == magenta[tris[:, :1]]).all(axis=1)  # not across an edge
        centre = uv[tris].mean(axis=1)
        px = np.clip((centre[:, 0] * w).astype(int), 0, w - 1)
        py = np.clip((centre[:, 1] * h).astype(int), 0, h - 1)  # glTF: v from the top
        got = _classify(img[py, px])
        want = np.where(magenta[tris[:, 0]], 0, 1)
        checked += int(inside.sum())
        right += int((got == want)[inside].sum())
    return checked, right


def test_parent_tiles_keep_the_texture_at_reduced_size(terrain: tuple[Path, Any]) -> None:
    out, report = terrain
    tileset = json.loads((out / "tileset.json").read_text())
    root = tileset["root"]
    assert root["refine"] == "REPLACE"
    assert _levels(root) >= 2, "the fixture must give parents on two levels"
    m = root_transform(tileset)
    uris = [t["content"]["uri"] for t, _ in _walk(root) if "content" in t]
    results = validate_glbs([out / u for u in uris], max_issues=0)
    assert all(r.errors == 0 and r.warnings == 0 for r in results.values()), results
    leaf_texture = parent_texture = 0
    parents = leaves = leaf_pixels = 0
    full = textured_mesh.IMAGE_PIXELS
    for tile, _ in _walk(root):
        if "content" not in tile:
            continue
        glb = Glb(out / tile["content"]["uri"])
        level = _levels(tile)
        sizes = [Image.open(io.BytesIO(glb.view(i["bufferView"]))).size for i in glb.json["images"]]
        texture = sum(len(glb.view(i["bufferView"])) for i in glb.json["images"])
        assert sizes, f"{tile['content']['uri']} has no texture"
        # Halved per level above the leaves (the fixture's image is 512 px), and cropped to
        # the part the tile's triangles use; the root's triangles use all of it.
        largest = max(max(s) for s in sizes)
        assert largest <= full >> level
        if tile is root:
            assert largest == full >> level
        if not level:
            leaves += 1
            leaf_pixels += sum(w * h for w, h in sizes)
        checked, right = _texel_check(glb, m)
        assert checked > 100
        assert right >= 0.99 * checked, (tile["content"]["uri"], checked, right)
        if level:
            parents += 1
            parent_texture += texture
        else:
            leaf_texture += texture
    assert parents >= 2
    # The leaves share the image out between them instead of each embedding all of it.
    assert leaves >= 4
    assert leaf_pixels <= 1.5 * full * full, (leaves, leaf_pixels)
    assert report.appearance["parent_texture_bytes"] == parent_texture
    assert report.appearance["texture_bytes"] == parent_texture + leaf_texture
    assert parent_texture < leaf_texture / 2


def test_decimated_parent_covers_the_ground_without_gaps(terrain: tuple[Path, Any]) -> None:
    """A mesh keeps the vertices of its texture seams and chunk outlines: the parent covers
    its leaves' ground to within 0.2 % (no cracks), with about a quarter of the triangles.
    (Without keeping them, 0.9 % of the ground opened up along seams and outlines.)"""
    out, _ = terrain
    tileset = json.loads((out / "tileset.json").read_text())
    m = root_transform(tileset)

    def plan(glb: Glb) -> tuple[float, int]:
        area, count = 0.0, 0
        for p in range(len(glb.primitives)):
            ecef = glb.primitive_ecef(p, m)
            x, y = (np.asarray(v) for v in TO_3006.transform(*ecef.T)[:2])
            t = glb.primitive_indices(p).reshape(-1, 3)
            u = np.column_stack([x[t[:, 1]] - x[t[:, 0]], y[t[:, 1]] - y[t[:, 0]]])
            v = np.column_stack([x[t[:, 2]] - x[t[:, 0]], y[t[:, 2]] - y[t[:, 0]]])
            area += float(0.5 * np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]).sum())
            count += t.shape[0]
        return area, count

    checked = 0
    for tile, _ in _walk(tileset["root"]):
        children = tile.get("children", [])
        if not children or "content" not in tile:
            continue
        if not all("content" in c and not c.get("children") for c in children):
            continue  # compare a parent with the leaves right below it
        parent_area, parent_count = plan(Glb(out / tile["content"]["uri"]))
        leaves = [plan(Glb(out / c["content"]["uri"])) for c in children]
        leaf_area = sum(a for a, _ in leaves)
        assert parent_area == pytest.approx(leaf_area, rel=0.002)
        assert parent_count < 0.35 * sum(n for _, n in leaves)
        checked += 1
    assert checked


def _box_building(roof_image: int, wall_image: int) -> tuple[Feature, list[Material]]:
    """A 10 x 10 x 6 m box: a flat roof (one material, a plain image) and four walls of
    2 x 2 quads, each quad textured with one square of a 2 x 2 checker image."""
    positions: list[list[float]] = []
    uvs: list[list[float]] = []
    tris: list[list[int]] = []
    mats: list[int] = []
    surfaces: list[int] = []

    def quad(corners: list[list[float]], uv: list[list[float]], material: int, surface: int):
        base = len(positions)
        positions.extend(corners)
        uvs.extend(uv)
        tris.extend([[base, base + 1, base + 2], [base, base + 2, base + 3]])
        mats.extend([material, material])
        surfaces.extend([surface, surface])

    quad([[0, 0, 6], [10, 0, 6], [10, 10, 6], [0, 10, 6]], [[0, 0], [1, 0], [1, 1], [0, 1]], 0, 1)
    walls = [((0, 0), (10, 0)), ((10, 0), (10, 10)), ((10, 10), (0, 10)), ((0, 10), (0, 0))]
    for a, b in walls:
        for i in range(2):
            for j in range(2):
                s0, s1, z0, z1 = i / 2, (i + 1) / 2, 3.0 * j, 3.0 * (j + 1)
                p0 = [a[0] + (b[0] - a[0]) * s0, a[1] + (b[1] - a[1]) * s0]
                p1 = [a[0] + (b[0] - a[0]) * s1, a[1] + (b[1] - a[1]) * s1]
                u0, u1, v0, v1 = s0, s1, j / 2, (j + 1) / 2
                quad(
                    [[*p0, z0], [*p1, z0], [*p1, z1], [*p0, z1]],
                    [[u0, v0], [u1, v0], [u1, v1], [u0, v1]],
                    1,
                    2,
                )
    mesh = Mesh(
        np.array(positions, dtype=np.float64),
        np.array(tris, dtype=np.int64),
        np.array(surfaces, dtype=np.int16),
        np.array(mats, dtype=np.int32),
        np.array(uvs, dtype=np.float32),
    )
    materials = [
        Material("roof", image=roof_image, has_color=False),
        Material("wall", image=wall_image, has_color=False),
    ]
    return Feature("house", "Building", mesh), materials


def _png(colours: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(colours.astype(np.uint8)).resize((64, 64), Image.Resampling.NEAREST).save(
        buf, "PNG"
    )
    return buf.getvalue()


def _linear(c: np.ndarray) -> np.ndarray:
    c = c / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def test_a_textured_building_becomes_a_block_in_its_mean_colours() -> None:
    roof_rgb = np.array([200, 100, 50])
    magenta, green = np.array([255, 0, 255]), np.array([0, 200, 0])
    checker = np.array([[magenta, green], [green, magenta]])
    images = [
        TextureImage("roof.png", data=_png(np.tile(roof_rgb, (2, 2, 1)))),
        TextureImage("wall.png", data=_png(checker)),
    ]
    house, materials = _box_building(0, 1)
    data = SourceData([house], "EPSG:3006", "test", materials=materials, images=images)
    app, warnings = prepare(data, 2048)
    assert app is not None
    assert not warnings
    pos = house.mesh.positions
    (block,) = lod.stand_ins(
        [house], pos, np.zeros(1, np.int64), np.array([pos.shape[0]]), appearance=app
    )
    assert block is not None
    assert block.triangle_count < house.mesh.triangle_count
    assert block.materials is None  # no texture: no image bytes in the parent
    assert block.colors is not None
    roof = block.triangles[block.surfaces == SURFACE_INDEX["RoofSurface"]].reshape(-1)
    wall = block.triangles[block.surfaces == SURFACE_INDEX["WallSurface"]].reshape(-1)
    want_roof = np.round(_linear(roof_rgb) * 255)
    want_wall = np.round((_linear(magenta) + _linear(green)) / 2 * 255)  # equal areas
    assert np.abs(block.colors[roof, :3] - want_roof).max() <= 1
    assert np.abs(block.colors[wall, :3] - want_wall).max() <= 1
    assert (block.colors[:, 3] == 255).all()
    # A roof without appearance keeps the default styling (alpha 0: the writer's colours).
    house.mesh.materials = np.where(house.mesh.surfaces == 1, -1, house.mesh.materials).astype(
        np.int32
    )
    (partial,) = lod.stand_ins(
        [house], pos, np.zeros(1, np.int64), np.array([pos.shape[0]]), appearance=app
    )
    assert partial is not None
    assert partial.colors is not None
    assert (partial.colors[roof, 3] == 0).all()
    assert np.abs(partial.colors[wall, :3] - want_wall).max() <= 1
    # Without an appearance the block keeps the default styling.
    (plain,) = lod.stand_ins([house], pos, np.zeros(1, np.int64), np.array([pos.shape[0]]))
    assert plain is not None
    assert plain.colors is None


def test_block_colours_reach_the_parent_glb(tmp_path: Path) -> None:
    """Blocks of textured buildings in a parent tile: one styled primitive whose vertex
    colours are the blocks' mean colours, and no image in the parent."""
    from tiles.gltf import write_glb
    from tiles.metadata import build_schema

    roof_rgb = np.array([200, 100, 50])
    images = [
        TextureImage("roof.png", data=_png(np.tile(roof_rgb, (2, 2, 1)))),
        TextureImage("wall.png", data=_png(np.tile(np.array([0, 200, 0]), (2, 2, 1)))),
    ]
    house, materials = _box_building(0, 1)
    data = SourceData([house], "EPSG:3006", "test", materials=materials, images=images)
    app, _ = prepare(data, 2048)
    pos = house.mesh.positions
    standins = lod.stand_ins(
        [house], pos, np.zeros(1, np.int64), np.array([pos.shape[0]]), appearance=app
    )
    tile = lod.parent_tile(np.array([0]), standins, [house], app, 1024)
    write_glb(tmp_path / "parent.glb", tile, build_schema([house]))
    (result,) = validate_glbs([tmp_path / "parent.glb"], max_issues=0).values()
    assert result.errors == 0
    assert result.warnings == 0
    glb = Glb(tmp_path / "parent.glb")
    assert "images" not in glb.json
    assert len(glb.primitives) == 1  # blocks only: one styled primitive
    colours = glb.primitive_attribute(0, "COLOR_0")[:, :3].astype(int)
    found = {tuple(c) for c in colours.tolist()}
    assert found == {
        tuple(np.round(_linear(roof_rgb) * 255).astype(int).tolist()),
        tuple(np.round(_linear(np.array([0, 200, 0])) * 255).astype(int).tolist()),
    }


@pytest.mark.shared_data
def test_rotterdam_textured_building_keeps_its_colour_in_parents(
    shared_data: Path, tmp_path: Path
) -> None:
    """Rotterdam's one building whose texture image exists: in every parent tile that holds
    its block, the block's walls have a colour sampled from that image, not the default
    styling the other (untextured) buildings' blocks keep."""
    from tiles.style import SURFACE_PALETTE

    source = shared_data / "cityjson-rotterdam-textured/rotterdam_subset.json"
    textured = "{CD98680D-A8DD-4106-A18E-15EE2A908D75}"
    out = tmp_path / "out"
    report = convert(source, out, ConvertOptions(crs="EPSG:7415", max_tile_bytes=20_000))
    tileset = json.loads((out / "tileset.json").read_text())
    uris = [t["content"]["uri"] for t, _ in _walk(tileset["root"]) if "content" in t]
    results = validate_glbs([out / u for u in uris], max_issues=0)
    assert all(r.errors == 0 for r in results.values()), results
    assert report.appearance["parent_texture_bytes"] == 0  # blocks only: colours, no images
    palette = {tuple(c) for c in SURFACE_PALETTE[:, :3].tolist()}
    seen = 0
    for tile, _ in _walk(tileset["root"]):
        if not tile.get("children") or "content" not in tile:
            continue
        glb = Glb(out / tile["content"]["uri"])
        ids = glb.property_table(0)["id"]
        colours = glb.attribute("COLOR_0")[:, :3].astype(int)
        fid = glb.attribute("_FEATURE_ID_0").astype(int)
        for row, oid in enumerate(ids):
            found = {tuple(c) for c in colours[fid == row].tolist()}
            if oid == textured:
                seen += 1
                assert found - palette, found  # a sampled colour
            else:
                assert found <= palette, (oid, found)
    assert seen
