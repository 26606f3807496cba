"""Unit tests of tiles.triangulate and tiles.polygons: planar 3D polygons to triangles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiles.options import ConvertOptions
from tiles.polygons import PolygonBatch, Triangulated, clean_rings, triangulate_polygons
from tiles.readers import cityjson, read
from tiles.triangulate import clean_ring, newell_normal, triangulate

RD = np.array([85000.0, 446500.0, 2.0])  # real Dutch coordinates: precision matters


def ring2d(xy: list[tuple[float, float]], z: float = 0.0) -> np.ndarray:
    return np.array([[x, y, z] for x, y in xy], dtype=np.float64)


def tri_normals(verts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    return np.cross(b - a, c - a)


def area(verts: np.ndarray, tris: np.ndarray) -> float:
    return float(np.linalg.norm(tri_normals(verts, tris), axis=1).sum() / 2)


def ring_area(ring: np.ndarray) -> float:
    return float(np.linalg.norm(newell_normal(ring - ring.mean(axis=0))) / 2)


def inside(point: np.ndarray, poly: np.ndarray) -> bool:
    """2D even-odd point-in-polygon (x, y of ``poly``)."""
    x, y = point[:2]
    hit = False
    for (x1, y1), (x2, y2) in zip(poly[:, :2], np.roll(poly, -1, axis=0)[:, :2], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def check(rings: list[np.ndarray], expected_area: float) -> tuple[np.ndarray, np.ndarray]:
    """Triangulate and check what must always hold; returns (vertices, triangles)."""
    out = triangulate(rings)
    assert out is not None
    verts, tris = out
    assert tris.dtype == np.int64
    assert tris.ndim == 2
    assert tris.shape[1] == 3
    assert tris.min() >= 0
    assert tris.max() < len(verts)
    assert area(verts, tris) == pytest.approx(expected_area, rel=1e-9)
    outer_normal = newell_normal(clean_ring(rings[0]) - rings[0].mean(axis=0))
    assert (tri_normals(verts, tris) @ outer_normal > 0).all(), "winding differs from outer"
    return verts, tris


SQUARE = [(0, 0), (10, 0), (10, 10), (0, 10)]
HOLE = [(4, 4), (4, 6), (6, 6), (6, 4)]


@pytest.mark.parametrize("reverse", [False, True])
def test_square_follows_the_ring_orientation(reverse: bool) -> None:
    ring = ring2d(SQUARE)[::-1] if reverse else ring2d(SQUARE)
    verts, tris = check([ring], 100.0)
    assert len(tris) == 2
    z = tri_normals(verts, tris)[:, 2]
    assert ((z < 0) if reverse else (z > 0)).all()


def test_triangle_is_returned_as_is() -> None:
    tri = ring2d([(0, 0), (3, 0), (0, 4)]) + RD
    verts, tris = check([tri], 6.0)
    np.testing.assert_array_equal(verts, tri)
    np.testing.assert_array_equal(tris, [[0, 1, 2]])


@pytest.mark.parametrize("hole_reversed", [False, True])
def test_hole_is_left_open(hole_reversed: bool) -> None:
    hole = ring2d(HOLE)[::-1] if hole_reversed else ring2d(HOLE)
    verts, tris = check([ring2d(SQUARE), hole], 96.0)
    assert len(verts) == 8  # outer then hole vertices
    assert len(tris) == 8
    centroids = verts[tris].mean(axis=1)
    assert not any(inside(c, ring2d(HOLE)) for c in centroids)


def test_two_holes_at_real_coordinates() -> None:
    holes = [ring2d([(1, 1), (1, 3), (3, 3), (3, 1)]), ring2d([(6, 6), (6, 9), (9, 9), (9, 6)])]
    verts, tris = check([ring2d(SQUARE) + RD, *(h + RD for h in holes)], 100 - 4 - 9)
    for h in holes:
        assert not any(inside(c - RD, h) for c in verts[tris].mean(axis=1))


def test_degenerate_hole_is_ignored() -> None:
    check([ring2d(SQUARE), ring2d([(4, 4), (5, 5)])], 100.0)


@pytest.mark.parametrize("plane", ["xz", "yz", "sloped"])
def test_vertical_and_sloped_polygons_with_hole(plane: str) -> None:
    def place(xy: list[tuple[float, float]]) -> np.ndarray:
        r = ring2d(xy)
        if plane == "xz":
            return RD + r[:, [0, 2, 1]]
        if plane == "yz":
            return RD + r[:, [2, 0, 1]]
        return RD + np.column_stack([r[:, 0], r[:, 1] * 0.6, r[:, 1] * 0.8])  # 36.87° roof

    verts, tris = check([place(SQUARE), place(HOLE)], 96.0)
    assert len(tris) == 8
    hole_centre = place([(5, 5)])[0]
    for a, b, c in verts[tris]:  # the hole centre is in no triangle
        n = np.cross(b - a, c - a)
        bary = [np.cross(q - p, hole_centre - p) @ n for p, q in ((a, b), (b, c), (c, a))]
        assert min(bary) < 0


NONCONVEX = {
    "L": [(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)],
    "U": [(0, 0), (12, 0), (12, 10), (8, 10), (8, 4), (4, 4), (4, 10), (0, 10)],
    "comb": [
        (0, 0),
        (9, 0),
        (9, 5),
        (8, 5),
        (8, 1),
        (6, 1),
        (6, 5),
        (5, 5),
        (5, 1),
        (3, 1),
        (3, 5),
        (2, 5),
        (2, 1),
        (1, 1),
        (1, 5),
        (0, 5),
    ],
    "star": [
        (np.cos(t) * r, np.sin(t) * r)
        for t, r in zip(np.linspace(0, 2 * np.pi, 10, endpoint=False), [5, 2] * 5, strict=True)
    ],
}


@pytest.mark.parametrize("name", sorted(NONCONVEX))
@pytest.mark.parametrize("reverse", [False, True])
def test_nonconvex_polygon_stays_inside(name: str, reverse: bool) -> None:
    ring = ring2d(NONCONVEX[name])
    ring = ring[::-1] if reverse else ring
    verts, tris = check([ring + RD], ring_area(ring))
    assert len(tris) == len(ring) - 2
    for c in verts[tris].mean(axis=1) - RD:
        assert inside(c, ring)


def test_closing_vertex_and_consecutive_duplicates_are_dropped() -> None:
    ring = ring2d(NONCONVEX["L"])
    noisy = np.concatenate([ring[:2], ring[1:2], ring[2:], ring[:1]])  # dup + closing vertex
    verts, tris = check([noisy + RD], 64.0)
    np.testing.assert_array_equal(verts, ring + RD)
    assert len(tris) == 4
    np.testing.assert_array_equal(clean_ring(noisy), ring)
    closed = np.concatenate([ring2d(SQUARE), ring2d(SQUARE)[:1]])
    verts, tris = check([closed, np.concatenate([ring2d(HOLE), ring2d(HOLE)[:1]])], 96.0)
    assert len(verts) == 8


@pytest.mark.parametrize(
    "rings",
    [
        [np.zeros((0, 3))],
        [ring2d([(0, 0), (1, 1)])],
        [ring2d([(0, 0), (1, 1), (0, 0)])],  # two distinct points and a closing vertex
        [ring2d([(0, 0), (0, 0), (0, 0), (0, 0)])],
        [ring2d([(0, 0), (1, 1), (2, 2), (3, 3)])],  # collinear
        [ring2d([(0, 0), (1, 0), (2, 0)]) + RD],  # collinear triangle at real coordinates
        [np.array([[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3.0]])],  # collinear, vertical
    ],
    ids=[
        "empty",
        "two-points",
        "closed-two-points",
        "one-point",
        "collinear",
        "collinear-triangle",
        "collinear-vertical",
    ],
)
def test_degenerate_polygon_gives_none(rings: list[np.ndarray]) -> None:
    assert triangulate(rings) is None


def test_spike_with_zero_area_is_handled() -> None:
    # a square with a zero-width spike going out and back along one edge
    ring = ring2d([(0, 0), (10, 0), (10, 10), (10, 15), (10, 10), (0, 10)])
    verts, tris = check([ring], 100.0)
    assert (np.linalg.norm(tri_normals(verts, tris), axis=1) > 0).all()


def test_slightly_non_planar_quad() -> None:
    ring = np.array([[0, 0, 0], [10, 0, 0.01], [10, 10, 0], [0, 10, 0.01]]) + RD
    out = triangulate([ring])
    assert out is not None
    verts, tris = out
    assert len(tris) == 2
    assert area(verts, tris) == pytest.approx(100.0, rel=1e-5)


def test_newell_normal_is_twice_the_area() -> None:
    ring = ring2d(NONCONVEX["U"])
    np.testing.assert_allclose(newell_normal(ring), [0, 0, 2 * 96.0])
    np.testing.assert_allclose(newell_normal(ring[::-1]), [0, 0, -2 * 96.0])


@pytest.mark.parametrize("seed", range(40))
def test_random_star_polygons_in_3d(seed: int) -> None:
    """Property: a random star-shaped polygon (with a hole near its centre), turned in 3D
    and moved to real coordinates, triangulates to its exact area with the outer ring's
    orientation and n + h - 2 triangles."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 40))
    step = 2 * np.pi / n  # jittered angles, every gap < pi: a simple star-shaped polygon
    angles = np.arange(n) * step + rng.uniform(0, 0.9 * step, n)
    radii = rng.uniform(2, 10, n)
    outer = np.column_stack([np.cos(angles) * radii, np.sin(angles) * radii, np.zeros(n)])
    rings = [outer]
    expected = ring_area(outer)
    hole = ring2d([(-0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.5, -0.5)])
    edge = np.linspace(0, 1, 20)[:, None]
    border = np.concatenate(
        [a + edge * (b - a) for a, b in zip(hole, np.roll(hole, -1, 0), strict=True)]
    )
    if seed % 2 and all(inside(p, outer) for p in border):
        rings.append(hole)
        expected -= 1.0
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # a random rotation (or reflection)
    moved = [r @ q.T + RD for r in rings]
    _, tris = check(moved, expected)
    assert len(tris) == sum(len(r) for r in rings) + 2 * (len(rings) - 1) - 2


# -- many polygons at once (tiles.polygons) --------------------------------------------


def batch_of(polygons: list[list[np.ndarray]]) -> Triangulated:
    points = np.concatenate([np.zeros((0, 3)), *(r for rings in polygons for r in rings)])
    ring_sizes = [len(r) for rings in polygons for r in rings]
    return triangulate_polygons(points, ring_sizes, [len(rings) for rings in polygons])


def polygon_mix(seed: int) -> list[list[np.ndarray]]:
    """Convex, concave, holed, closed, duplicated, collinear and degenerate polygons,
    turned in 3D and moved to real coordinates."""
    rng = np.random.default_rng(seed)
    shapes: list[list[np.ndarray]] = [
        [ring2d(SQUARE)],
        [ring2d(SQUARE)[::-1]],
        [ring2d([(0, 0), (3, 0), (0, 4)])],
        [np.concatenate([ring2d(SQUARE), ring2d(SQUARE)[:1]])],  # closing vertex
        [ring2d([(0, 0), (5, 0), (5, 0), (10, 0), (10, 10), (0, 10)])],  # dup + straight
        [ring2d(SQUARE), ring2d(HOLE)],
        [ring2d(SQUARE), ring2d([(4, 4), (5, 5)])],  # degenerate hole
        [ring2d([(0, 0), (1, 1), (2, 2), (3, 3)])],  # collinear: degenerate
        [ring2d([(0, 0), (1, 1), (0, 0)])],  # degenerate
        [np.zeros((0, 3))],  # empty ring
        [ring2d([(0, 0), (10, 0), (10, 10), (10, 15), (10, 10), (0, 10)])],  # spike
        *([ring2d(NONCONVEX[k])] for k in sorted(NONCONVEX)),
        [ring2d([(np.cos(t) * 5, np.sin(t) * 5) for t in np.arange(5) * 4 * np.pi / 5])],
    ]
    for _ in range(6):  # random convex polygons (hull of points on a circle)
        t = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 12))))
        shapes.append([ring2d([(np.cos(a) * 7, np.sin(a) * 4) for a in t])])
    order = rng.permutation(len(shapes))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return [[r @ q.T + RD for r in shapes[i]] for i in order]


@pytest.mark.parametrize("seed", range(12))
def test_batch_gives_what_triangulate_gives_polygon_by_polygon(seed: int) -> None:
    polygons = polygon_mix(seed)
    out = batch_of(polygons)
    assert out.triangles.dtype == np.int64
    assert out.positions.shape == (out.vertex_polygons.shape[0], 3)
    assert (np.diff(out.polygons) >= 0).all()
    assert (np.diff(out.vertex_polygons) >= 0).all()
    degenerate = 0
    for p, rings in enumerate(polygons):
        alone = triangulate(rings)
        mine = out.triangles[out.polygons == p]
        if alone is None:
            degenerate += 1
            assert mine.shape[0] == 0
            assert not (out.vertex_polygons == p).any()
            continue
        verts, tris = alone
        assert mine.shape[0] == tris.shape[0], p
        assert (out.vertex_polygons[mine] == p).all()  # its own vertices only
        assert area(out.positions, mine) == pytest.approx(area(verts, tris), rel=1e-9)
        normal = newell_normal(clean_ring(rings[0]) - rings[0].mean(axis=0))
        assert (tri_normals(out.positions, mine) @ normal > 0).all()
    assert out.degenerate == degenerate


def test_convex_polygon_is_a_fan_and_a_star_is_not() -> None:
    hexagon = ring2d([(np.cos(t), np.sin(t)) for t in np.arange(6) * np.pi / 3]) + RD
    out = batch_of([[hexagon]])
    np.testing.assert_array_equal(out.triangles, [[0, k, k + 1] for k in range(1, 5)])
    # A pentagram turns the same way at every corner but goes round twice: a fan would
    # cover its centre twice. It goes to earcut, like triangulate() sends it.
    pentagram = ring2d([(np.cos(t), np.sin(t)) for t in np.arange(5) * 4 * np.pi / 5]) + RD
    alone = triangulate([pentagram])
    assert alone is not None
    out = batch_of([[pentagram]])
    assert area(out.positions, out.triangles) == pytest.approx(area(*alone))


def test_batch_of_nothing_and_of_degenerate_polygons_only() -> None:
    out = batch_of([])
    assert out.positions.shape == (0, 3)
    assert out.triangles.shape == (0, 3)
    assert out.degenerate == 0
    out = batch_of([[ring2d([(0, 0), (1, 1)])], [np.zeros((0, 3))]])
    assert out.triangles.shape == (0, 3)
    assert out.positions.shape == (0, 3)
    assert out.degenerate == 2


def test_clean_rings_is_clean_ring_for_every_ring() -> None:
    rings = [
        np.concatenate([ring2d(SQUARE)[:2], ring2d(SQUARE)[1:], ring2d(SQUARE)[:1]]),
        np.zeros((0, 3)),
        ring2d([(0, 0), (0, 0), (0, 0)]),
        ring2d([(0, 0), (0, 0), (1, 0), (0, 0)]),
        ring2d(SQUARE),
    ]
    points, sizes = clean_rings(np.concatenate(rings), np.array([len(r) for r in rings]))
    expected = [clean_ring(r) for r in rings]
    assert sizes.tolist() == [len(r) for r in expected]
    np.testing.assert_array_equal(points, np.concatenate(expected))


def test_polygon_batch_splits_meshes_and_keeps_surface_classes() -> None:
    batch = PolygonBatch()
    square, tri = ring2d(SQUARE) + RD, ring2d([(0, 0), (3, 0), (0, 4)]) + RD
    batch.add(0, np.concatenate([square, tri]), [4, 3], [1, 1], [1, 2])
    batch.add(2, np.concatenate([square, ring2d(HOLE) + RD]), [4, 4], [2], [3])
    batch.add(2, ring2d([(0, 0), (1, 1)]), [2], [1], [1])  # degenerate
    meshes, degenerate = batch.meshes(3)
    assert degenerate == 1
    assert [m.triangle_count for m in meshes] == [3, 0, 8]
    assert meshes[0].surfaces.tolist() == [1, 1, 2]
    assert (meshes[2].surfaces == 3).all()
    for m, expected in zip(meshes, [106.0, 0.0, 96.0], strict=True):
        assert m.triangles.min(initial=0) >= 0
        assert m.triangles.max(initial=-1) < len(m.positions)
        assert area(m.positions, m.triangles) == pytest.approx(expected)


def test_reader_batches_give_the_same_meshes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader triangulates objects in batches; where batches end changes nothing."""
    demo = Path(__file__).parents[2] / "data" / "demo" / "delft.city.json"
    whole = read(demo, ConvertOptions())
    monkeypatch.setattr(cityjson, "_BATCH_POINTS", 50)
    pieces = read(demo, ConvertOptions())
    assert whole.warnings == pieces.warnings
    assert [f.id for f in whole.features] == [f.id for f in pieces.features]
    for a, b in zip(whole.features, pieces.features, strict=True):
        np.testing.assert_array_equal(a.mesh.positions, b.mesh.positions)
        np.testing.assert_array_equal(a.mesh.triangles, b.mesh.triangles)
        np.testing.assert_array_equal(a.mesh.surfaces, b.mesh.surfaces)
