"""Parent tiles carry simplified stand-ins of the objects below them (tiles/lod.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from glbtools import Glb, load_tileset

from tiles import ConvertOptions, convert, lod
from tiles.model import SURFACE_INDEX, Feature, Mesh
from tiles.validate import check_tileset

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "delft.city.json"
SMALL_TILES = ConvertOptions(max_tile_bytes=200_000)


def _area(tri: np.ndarray) -> float:
    """Total area of 2D triangles (k, 3, 2)."""
    u, v = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    return float(0.5 * np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]).sum())


def _feature(fid: str, positions: np.ndarray, triangles: np.ndarray) -> Feature:
    surfaces = np.zeros(triangles.shape[0], dtype=np.int16)
    return Feature(fid, "Building", Mesh(positions, triangles, surfaces))


def _standins(features: list[Feature]) -> list[lod.StandIn | None]:
    counts = np.array([f.mesh.positions.shape[0] for f in features], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    enu = np.concatenate([f.mesh.positions for f in features])
    return lod.stand_ins(features, enu, starts, counts)


def _l_shaped_house() -> Feature:
    """An L-shaped plan (two boxes), roof at 9 m, ridge detail: 40 triangles of fan tops."""
    rng = np.random.default_rng(3)
    plan = shapely.Polygon([(0, 0), (20, 0), (20, 8), (8, 8), (8, 15), (0, 15)])
    pts = np.array(plan.exterior.coords)[:-1]
    top = np.column_stack([pts, 9 + rng.uniform(0, 1, len(pts))])
    bottom = np.column_stack([pts, np.zeros(len(pts))])
    positions = np.concatenate([top, bottom, rng.uniform([0, 0, 0], [8, 8, 9], (30, 3))])
    triangles = np.array([[i, (i + 1) % 12, (i + 2) % 12] for i in range(14)], dtype=np.int64)
    return _feature("house", positions, triangles)


def test_a_building_becomes_a_block_of_its_hull() -> None:
    house = _l_shaped_house()
    (block,) = _standins([house])
    assert block is not None
    lo, hi = house.mesh.positions.min(axis=0), house.mesh.positions.max(axis=0)
    # Inside the object's box, from its lowest to its highest point.
    assert (block.positions >= lo - 1e-9).all()
    assert (block.positions <= hi + 1e-9).all()
    assert block.positions[:, 2].min() == pytest.approx(lo[2])
    assert block.positions[:, 2].max() == pytest.approx(hi[2])
    # The roof covers the convex hull of the plan: 20 x 15 minus nothing (L is convex-hulled).
    roof = block.triangles[block.surfaces == SURFACE_INDEX["RoofSurface"]]
    tri = block.positions[roof][:, :, :2]
    area = _area(tri)
    hull = shapely.convex_hull(shapely.multipoints(house.mesh.positions[:, :2]))
    assert area == pytest.approx(hull.area)
    # Walls face outwards: each wall normal points away from the plan's centre.
    walls = block.positions[block.triangles[block.surfaces == SURFACE_INDEX["WallSurface"]]]
    normals = np.cross(walls[:, 1] - walls[:, 0], walls[:, 2] - walls[:, 0])
    outward = walls.mean(axis=1)[:, :2] - np.array(hull.centroid.coords[0])
    assert (np.einsum("ij,ij->i", normals[:, :2], outward) > 0).all()
    roofs = block.positions[roof]
    assert (np.cross(roofs[:, 1] - roofs[:, 0], roofs[:, 2] - roofs[:, 0])[:, 2] > 0).all()
    assert block.prominence == pytest.approx(hull.area * (hi[2] - lo[2]))


def test_small_and_flat_objects() -> None:
    box = _feature(
        "tiny",
        np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 3]], dtype=float),
        np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int64),
    )
    # A flat road: a 60 x 60 grid of 3,600 quads, gently undulating (under a metre).
    n = 61
    xs, ys = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    grid = np.column_stack([xs.ravel(), ys.ravel(), 0.2 * np.sin(xs.ravel() / 9)])
    i = (np.arange(n - 1)[:, None] * n + np.arange(n - 1)[None, :]).ravel()
    quads = np.concatenate(
        [np.column_stack([i, i + 1, i + n + 1]), np.column_stack([i, i + n + 1, i + n])]
    )
    road = _feature("road", grid, quads.astype(np.int64))
    kept, reduced = _standins([box, road])
    assert kept is not None
    assert reduced is not None
    assert np.array_equal(kept.triangles, box.mesh.triangles)  # small: kept as it is
    assert reduced.triangle_count < quads.shape[0] / 2
    lo, hi = grid.min(axis=0), grid.max(axis=0)
    assert (reduced.positions >= lo - 1e-9).all()
    assert (reduced.positions <= hi + 1e-9).all()
    # The decimated surface still covers the road's plan.
    tri = reduced.positions[reduced.triangles][:, :, :2]
    area = _area(tri)
    assert area == pytest.approx(60 * 60, rel=0.02)


def _ids(glb: Glb) -> set[str]:
    return set(glb.property_table(0)["id"])


def _walk(tile: dict[str, Any]) -> list[dict[str, Any]]:
    return [tile, *(t for c in tile.get("children", []) for t in _walk(c))]


def test_parents_hold_stand_ins_their_children_replace(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = convert(DEMO, out, SMALL_TILES)
    assert check_tileset(out / "tileset.json") == []
    tileset, leaves = load_tileset(out)
    root = tileset["root"]
    assert root["refine"] == "REPLACE"
    assert "content" in root
    # Leaves hold every object once, at full detail.
    leaf_ids = [oid for g in leaves for oid in g.property_table(0)["id"]]
    assert len(leaf_ids) == len(set(leaf_ids)) == report.feature_count
    # Each parent's stand-ins are objects of its own subtree, within the tile budget.
    for tile in _walk(root):
        if not tile.get("children") or "content" not in tile:
            continue
        parent = Glb(out / tile["content"]["uri"])
        below = {
            oid
            for t in _walk(tile)
            if not t.get("children") and "content" in t
            for oid in _ids(Glb(out / t["content"]["uri"]))
        }
        assert _ids(parent) <= below
        # The budget bounds an estimate of the size (as for leaves), so allow some slack.
        assert (out / tile["content"]["uri"]).stat().st_size <= 1.2 * SMALL_TILES.max_tile_bytes
    # A city-wide view (the root alone) fetches a small part of the whole.
    root_bytes = (out / root["content"]["uri"]).stat().st_size
    assert root_bytes < report.bytes_total / 5
    # The report counts parent tiles too.
    contents = [t for t in _walk(root) if "content" in t]
    assert report.tile_count == len(contents)
    assert report.bytes_total == sum((out / t["content"]["uri"]).stat().st_size for t in contents)


def test_the_most_prominent_objects_reach_the_root(tmp_path: Path) -> None:
    """Plan area x height, measured here on the full-detail leaves, ranks what a city-wide
    view shows: the five largest objects are in the root's stand-ins."""
    out = tmp_path / "out"
    convert(DEMO, out, SMALL_TILES)
    tileset, leaves = load_tileset(out)
    root_ids = _ids(Glb(out / tileset["root"]["content"]["uri"]))
    assert 0 < len(root_ids) < sum(len(_ids(g)) for g in leaves)
    ranked = []
    for g in leaves:
        fid = g.attribute("_FEATURE_ID_0")
        pos = g.attribute("POSITION").astype(np.float64) + g.translation
        for row, oid in enumerate(g.property_table(0)["id"]):
            p = pos[fid == row]  # glTF is y-up: the plan is (x, z), the height y
            hull = shapely.convex_hull(shapely.multipoints(p[:, [0, 2]]))
            ranked.append((max(hull.area, 1.0) * max(float(np.ptp(p[:, 1])), 0.1), oid))
    ranked.sort(reverse=True)
    top = [oid for _, oid in ranked[:5]]
    assert [oid for oid in top if oid in root_ids] == top


def test_lod_parents_can_be_switched_off(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = convert(DEMO, out, ConvertOptions(max_tile_bytes=200_000, lod_parents=False))
    doc = json.loads((out / "tileset.json").read_text())
    assert doc["root"]["refine"] == "ADD"
    assert all("content" not in t for t in _walk(doc["root"]) if t.get("children"))
    assert report.tile_count == sum(1 for t in _walk(doc["root"]) if "content" in t)


def test_a_tall_mesh_is_decimated_not_blocked() -> None:
    """A photogrammetry mesh keeps its shape (a dome stays a dome), only with fewer triangles."""
    n = 40
    theta, phi = np.meshgrid(np.linspace(0, np.pi / 2, n), np.linspace(0, 2 * np.pi, n))
    pts = 20 * np.column_stack(
        [np.cos(theta.ravel()) * np.cos(phi.ravel()), np.cos(theta.ravel()) * np.sin(phi.ravel()),
         np.sin(theta.ravel())]
    )  # fmt: skip
    i = (np.arange(n - 1)[:, None] * n + np.arange(n - 1)[None, :]).ravel()
    tris = np.concatenate(
        [np.column_stack([i, i + n, i + n + 1]), np.column_stack([i, i + n + 1, i + 1])]
    )
    dome = Feature("dome", "Mesh", Mesh(pts, tris.astype(np.int64), np.zeros(len(tris), np.int16)))
    (stand_in,) = _standins([dome])
    assert stand_in is not None
    assert stand_in.triangle_count < len(tris) / 2
    # No block: no vertical wall reaches from the ground to the top at the rim.
    assert SURFACE_INDEX["WallSurface"] not in set(stand_in.surfaces.tolist())
    # Every stand-in vertex lies near the dome's surface (radius 20 m).
    radius = np.linalg.norm(stand_in.positions, axis=1)
    assert np.abs(radius - 20).max() < 1.5
