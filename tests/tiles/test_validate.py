"""tiles.validate: structural checks of written tilesets, on synthetic and reference data."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tiles.errors import InvalidTileset
from tiles.validate import Issue, assert_valid_tileset, check_tileset
from tiles.validate_bounds import to_ecef, to_geodetic

#: Each file of the 3d-tiles-validator's spec data (``3dtiles-validator-invalid``) and the
#: code it must fail with. ``boundingVolumeMissingProperty.json`` has ``boundingVolume: {}``:
#: the volume is there but has none of box/region/sphere, so ``bounding_volume_invalid``
#: (``bounding_volume_missing`` is for a tile without any ``boundingVolume``).
INVALID = {
    "assetVersionMissing.json": "asset_version_missing",
    "assetVersionUnknown.json": "asset_version_unknown",
    "boundingVolumeMissingProperty.json": "bounding_volume_invalid",
    "boundingVolumeRegionArrayElementsOutOfRange.json": "bounding_volume_invalid",
    "extensionRequiredButNotUsed.json": "extension_required_not_used",
    "implicitTilingSubtreesUriMissing.json": "implicit_subtrees_uri_missing",
    "invalidJson.json": "invalid_json",
    "tileChildrenEmptyArray.json": "children_empty",
    "tileContentBoundingVolumeNotInTileBoundingVolume.json": "content_not_inside_tile",
    "tileGeometricErrorMissing.json": "geometric_error_missing",
    "tileGeometricErrorNegative.json": "geometric_error_negative",
    "tileGeometricErrorNotSmallerThanParentGeometricError.json": "geometric_error_not_decreasing",
    "tileRefineInvalidValue.json": "refine_invalid",
    "tileRefineMissingInRoot.json": "refine_missing_in_root",
    "tileWithContentAndContents.json": "content_and_contents",
}
SAMPLES = [
    "1.0/TilesetWithRequestVolume/city/tileset.json",  # b3dm, regions, 1.0
    "1.1/SparseImplicitQuadtree/tileset.json",
]  # implicit quadtree, glb, 1.1


def codes(issues: list[Issue]) -> set[str]:
    return {i.code for i in issues}


def box(cx: float, cy: float, cz: float, hx: float, hy: float, hz: float) -> dict[str, Any]:
    return {"box": [cx, cy, cz, hx, 0, 0, 0, hy, 0, 0, 0, hz]}


def column_major(matrix: np.ndarray) -> list[float]:
    return [float(v) for v in matrix.T.ravel()]


def translate(x: float, y: float, z: float) -> list[float]:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return column_major(m)


def rotate_z(degrees: float) -> list[float]:
    a = math.radians(degrees)
    m = np.eye(4)
    m[:2, :2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    return column_major(m)


def enu_to_ecef(lon: float, lat: float, height: float) -> list[float]:
    """East-north-up at (lon, lat, height) radians/metres to ECEF, column-major."""
    east = [-math.sin(lon), math.cos(lon), 0.0]
    north = [-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)]
    up = [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = east, north, up
    m[:3, 3] = to_ecef(np.array([lon]), np.array([lat]), np.array([height]))[0]
    return column_major(m)


def tileset(root: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc = {"asset": {"version": "1.1"}, "geometricError": 100.0, "root": root}
    doc.update(top)
    return doc


def empty_glb() -> bytes:
    """A valid GLB with nothing in it: content files here only need to exist."""
    text = b'{"asset":{"version":"2.0"}}'
    text += b" " * (-len(text) % 4)
    return (
        struct.pack("<4sII", b"glTF", 2, 20 + len(text))
        + struct.pack("<I4s", len(text), b"JSON")
        + text
    )


def write(
    directory: Path,
    doc: dict[str, Any] | str,
    name: str = "tileset.json",
    files: tuple[str, ...] = (),
) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    for file in files:
        (directory / file).parent.mkdir(parents=True, exist_ok=True)
        (directory / file).write_bytes(empty_glb())
    return path


def valid_doc() -> dict[str, Any]:
    """Boxes in a local frame under a root transform, contents with tight volumes."""
    return tileset(
        {
            "transform": enu_to_ecef(math.radians(18.07), math.radians(59.33), 20.0),
            "boundingVolume": box(0, 0, 10, 100, 100, 10),
            "geometricError": 50.0,
            "refine": "ADD",
            "children": [
                {
                    "boundingVolume": box(-50, 0, 10, 50, 100, 10),
                    "geometricError": 0.0,
                    "content": {"uri": "tiles/a.glb", "boundingVolume": box(-50, 0, 5, 40, 90, 5)},
                },
                {
                    "boundingVolume": box(50, 0, 10, 50, 100, 10),
                    "geometricError": 0.0,
                    "contents": [{"uri": "tiles/b.glb"}, {"uri": "tiles/c%20d.glb"}],
                },
            ],
        }
    )


def test_valid_synthetic_tileset_passes(tmp_path: Path) -> None:
    path = write(tmp_path, valid_doc(), files=("tiles/a.glb", "tiles/b.glb", "tiles/c d.glb"))
    assert check_tileset(path) == []
    assert_valid_tileset(path)


def test_child_outside_parent_fails(tmp_path: Path) -> None:
    doc = valid_doc()
    doc["root"]["children"][1]["boundingVolume"] = box(150, 0, 10, 50, 100, 10)
    issues = check_tileset(
        write(tmp_path, doc, files=("tiles/a.glb", "tiles/b.glb", "tiles/c d.glb"))
    )
    assert [(i.code, i.path) for i in issues] == [
        ("child_not_inside_parent", "root.children[1].boundingVolume")
    ]
    assert "100.000 m outside" in issues[0].message


@pytest.mark.parametrize(
    ("transform", "inside"),
    [
        (translate(10, 0, 0), True),  # box reaches x = 15 within the parent's 20
        (translate(20, 0, 0), False),  # reaches x = 25
        (None, True),
    ],
)
def test_child_transform_moves_its_volume(
    tmp_path: Path, transform: list[float] | None, inside: bool
) -> None:
    child: dict[str, Any] = {"boundingVolume": box(0, 0, 0, 5, 5, 5), "geometricError": 0}
    if transform:
        child["transform"] = transform
    root = {
        "boundingVolume": box(0, 0, 0, 20, 20, 20),
        "geometricError": 1,
        "refine": "ADD",
        "transform": column_major(np.diag([3.0, 3.0, 3.0, 1.0])),
        "children": [child],
    }
    found = codes(check_tileset(write(tmp_path, tileset(root))))
    assert found == (set() if inside else {"child_not_inside_parent"})


@pytest.mark.parametrize(("degrees", "inside"), [(0, False), (45, True)])
def test_rotated_child_box_corners_are_compared_in_parent_frame(
    tmp_path: Path, degrees: float, inside: bool
) -> None:
    # A 20 x 2 bar does not fit a 16 x 16 square, but does when turned 45°.
    child = {
        "boundingVolume": box(0, 0, 0, 10, 1, 1),
        "geometricError": 0,
        "transform": rotate_z(degrees),
    }
    root = {
        "boundingVolume": box(0, 0, 0, 8, 8, 8),
        "geometricError": 1,
        "refine": "ADD",
        "children": [child],
    }
    found = codes(check_tileset(write(tmp_path, tileset(root))))
    assert found == (set() if inside else {"child_not_inside_parent"})


def test_parent_transform_applies_to_children(tmp_path: Path) -> None:
    # Both volumes are scaled by the root transform: 15 > 10 even though 15 < 2 x 10.
    root = {
        "boundingVolume": box(0, 0, 0, 10, 10, 10),
        "geometricError": 1,
        "refine": "ADD",
        "transform": column_major(np.diag([2.0, 2.0, 2.0, 1.0])),
        "children": [{"boundingVolume": box(0, 0, 0, 15, 1, 1), "geometricError": 0}],
    }
    assert codes(check_tileset(write(tmp_path, tileset(root)))) == {"child_not_inside_parent"}


@pytest.mark.parametrize(("east_offset", "inside"), [(0.0, True), (10_000.0, False)])
def test_local_box_inside_geographic_region(
    tmp_path: Path, east_offset: float, inside: bool
) -> None:
    lon, lat = math.radians(11.97), math.radians(57.71)
    d = 0.001  # ~6 km north-south
    # The box spans heights 0..100 at its centre; its corners, 420 m out, rise 1.4 cm
    # higher above the curved ellipsoid, hence the region's 101 m top.
    child = {
        "transform": enu_to_ecef(lon, lat, 0.0),
        "geometricError": 0,
        "boundingVolume": box(east_offset, 0, 50, 300, 300, 50),
    }
    root = {
        "boundingVolume": {"region": [lon - d, lat - d, lon + d, lat + d, 0, 101]},
        "geometricError": 10,
        "refine": "REPLACE",
        "children": [child],
    }
    found = codes(check_tileset(write(tmp_path, tileset(root))))
    assert found == (set() if inside else {"child_not_inside_parent"})


def test_box_against_curved_region_uses_whole_faces(tmp_path: Path) -> None:
    # A 20 km flat box tangent at its centre: its corners rise ~15 m above the ellipsoid,
    # the middle of its bottom face stays at -0.5 m. Corners alone would pass [10, 100].
    lon, lat = math.radians(13.0), math.radians(55.6)
    child = {
        "transform": enu_to_ecef(lon, lat, 0.0),
        "geometricError": 0,
        "boundingVolume": box(0, 0, 0, 10_000, 10_000, 0.5),
    }
    for low, high, inside in ((-1.0, 100.0, True), (10.0, 100.0, False), (-1.0, 5.0, False)):
        root = {
            "boundingVolume": {
                "region": [lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01, low, high]
            },
            "geometricError": 10,
            "refine": "ADD",
            "children": [child],
        }
        found = codes(check_tileset(write(tmp_path, tileset(root))))
        assert found == (set() if inside else {"child_not_inside_parent"}), (low, high)


def test_regions_across_the_antimeridian(tmp_path: Path) -> None:
    parent = [3.14, -0.1, -3.14, 0.1, 0, 10]  # west > east: crosses ±180°
    for child, inside in (
        ([3.141, -0.05, -3.1415, 0.05, 0, 10], True),
        ([3.13, -0.05, -3.1415, 0.05, 0, 10], False),
        ([-3.1415, -0.05, -3.1395, 0.05, 0, 10], False),
    ):
        root = {
            "boundingVolume": {"region": parent},
            "geometricError": 1,
            "refine": "ADD",
            "children": [{"boundingVolume": {"region": child}, "geometricError": 0}],
        }
        found = codes(check_tileset(write(tmp_path, tileset(root))))
        assert found == (set() if inside else {"child_not_inside_parent"}), child


def test_spheres_and_boxes(tmp_path: Path) -> None:
    cases = [
        ({"sphere": [0, 0, 0, 10]}, box(0, 0, 0, 5, 5, 5), True),  # corner at 8.66
        ({"sphere": [0, 0, 0, 8]}, box(0, 0, 0, 5, 5, 5), False),
        (box(0, 0, 0, 5, 5, 5), {"sphere": [1, 0, 0, 4]}, True),
        (box(0, 0, 0, 5, 5, 5), {"sphere": [2, 0, 0, 4]}, False),
        ({"sphere": [0, 0, 0, 5]}, {"sphere": [1, 1, 1, 3]}, True),
    ]
    for outer, inner, inside in cases:
        root = {
            "boundingVolume": outer,
            "geometricError": 1,
            "refine": "ADD",
            "content": {"uri": "a.glb", "boundingVolume": inner},
        }
        found = codes(check_tileset(write(tmp_path, tileset(root), files=("a.glb",))))
        assert found == (set() if inside else {"content_not_inside_tile"}), (outer, inner)


def test_flat_boxes_touching_the_parent_faces_pass(tmp_path: Path) -> None:
    root = {
        "boundingVolume": box(0, 0, 0, 10, 10, 0),
        "geometricError": 1,
        "refine": "ADD",
        "children": [{"boundingVolume": box(5, 5, 0, 5, 5, 0), "geometricError": 0}],
    }
    assert check_tileset(write(tmp_path, tileset(root))) == []


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 400])
def test_non_finite_numbers_fail(tmp_path: Path, text: str) -> None:
    raw = json.dumps(
        tileset({"boundingVolume": box(0, 0, 0, 1, 1, 1), "geometricError": 1, "refine": "ADD"})
    ).replace('"geometricError": 1,', f'"geometricError": {text},')
    issues = check_tileset(write(tmp_path, raw))
    assert [(i.code, i.path) for i in issues] == [("non_finite", "root.geometricError")]


def test_nan_inside_a_bounding_volume_is_reported_once(tmp_path: Path) -> None:
    raw = json.dumps(
        tileset({"boundingVolume": box(0, 0, 0, 1, 1, 1), "geometricError": 1, "refine": "ADD"})
    ).replace("[0, 0, 0, 1,", "[0, NaN, 0, 1,")
    issues = check_tileset(write(tmp_path, raw))
    assert [(i.code, i.path) for i in issues] == [("non_finite", "root.boundingVolume.box[1]")]


def test_missing_content_file_fails(tmp_path: Path) -> None:
    issues = check_tileset(write(tmp_path, valid_doc(), files=("tiles/a.glb", "tiles/b.glb")))
    assert [(i.code, i.path) for i in issues] == [
        ("content_missing", "root.children[1].contents[1].uri")
    ]
    with pytest.raises(InvalidTileset) as raised:
        assert_valid_tileset(tmp_path / "tileset.json")
    assert raised.value.code == "invalid_tileset"
    assert "content_missing" in raised.value.one_line()
    assert raised.value.issues == tuple(issues)


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("../outside.glb", "content_uri_unsafe"),
        ("/etc/passwd", "content_uri_unsafe"),
        ("http://example.com/a.glb", "content_uri_unsupported"),
        ("file:///etc/passwd", "content_uri_unsupported"),
    ],
)
def test_content_uris_stay_inside_the_tileset(tmp_path: Path, uri: str, code: str) -> None:
    (tmp_path / "outside.glb").write_bytes(empty_glb())
    root = {
        "boundingVolume": box(0, 0, 0, 1, 1, 1),
        "geometricError": 1,
        "refine": "ADD",
        "content": {"uri": uri},
    }
    assert codes(check_tileset(write(tmp_path / "set", tileset(root)))) == {code}


def test_data_uri_content_is_accepted(tmp_path: Path) -> None:
    root = {
        "boundingVolume": box(0, 0, 0, 1, 1, 1),
        "geometricError": 1,
        "refine": "ADD",
        "content": {"uri": "data:application/octet-stream;base64,Z2xURg=="},
    }
    assert check_tileset(write(tmp_path, tileset(root))) == []


def external(tmp_path: Path, sub_root: dict[str, Any], parent: dict[str, Any]) -> Path:
    write(tmp_path, tileset(sub_root), name="sub/tileset.json", files=("sub/x.glb",))
    return write(tmp_path, tileset(parent))


def test_external_tileset_is_checked_under_its_tile_transform(tmp_path: Path) -> None:
    sub_root = {
        "boundingVolume": box(0, 0, 0, 5, 5, 5),
        "geometricError": 2,
        "refine": "ADD",
        "content": {"uri": "x.glb"},
    }

    def parent(shift: float, half: float) -> dict[str, Any]:
        return {
            "boundingVolume": box(0, 0, 0, 20, 20, 20),
            "geometricError": 8,
            "refine": "ADD",
            "children": [
                {
                    "boundingVolume": box(0, 0, 0, half, half, half),
                    "geometricError": 4,
                    "transform": translate(shift, 0, 0),
                    "content": {"uri": "sub/tileset.json"},
                }
            ],
        }

    # The external root lands at x = 10 ± 5, inside its referencing tile's 10 ± 10.
    assert check_tileset(external(tmp_path, sub_root, parent(10, 10))) == []
    # At x = 16 ± 5 it leaves the referencing tile's 16 ± 4.
    issues = check_tileset(external(tmp_path, sub_root, parent(16, 4)))
    assert [(i.code, i.path) for i in issues] == [
        ("child_not_inside_parent", "sub/tileset.json#root.boundingVolume")
    ]


def test_problems_inside_external_tilesets_carry_their_file(tmp_path: Path) -> None:
    sub_root: dict[str, Any] = {
        "boundingVolume": box(0, 0, 0, 5, 5, 5),
        "geometricError": -1,
        "content": {"uri": "missing.glb"},
    }
    parent = {
        "boundingVolume": box(0, 0, 0, 20, 20, 20),
        "geometricError": 8,
        "refine": "ADD",
        "content": {"uri": "sub/tileset.json"},
    }
    issues = check_tileset(external(tmp_path, sub_root, parent))
    assert {(i.code, i.path) for i in issues} == {
        ("refine_missing_in_root", "sub/tileset.json#root"),
        ("geometric_error_negative", "sub/tileset.json#root.geometricError"),
        ("content_missing", "sub/tileset.json#root.content.uri"),
    }


def test_external_tileset_cycle_is_reported_not_followed(tmp_path: Path) -> None:
    def doc(uri: str) -> dict[str, Any]:
        return tileset(
            {
                "boundingVolume": box(0, 0, 0, 1, 1, 1),
                "geometricError": 1,
                "refine": "ADD",
                "content": {"uri": uri},
            }
        )

    write(tmp_path, doc("a.json"), name="b.json")
    assert codes(check_tileset(write(tmp_path, doc("b.json"), name="a.json"))) == {
        "external_tileset_cycle"
    }


def test_extension_declarations(tmp_path: Path) -> None:
    root = {
        "boundingVolume": box(0, 0, 0, 1, 1, 1),
        "geometricError": 1,
        "refine": "ADD",
        "extensions": {"VENDOR_found": {}},
    }
    doc = tileset(root, extensionsUsed=["VENDOR_unused"], extensionsRequired=["VENDOR_unused"])
    issues = check_tileset(write(tmp_path, doc))
    assert {(i.code, i.severity) for i in issues} == {
        ("extension_found_not_used", "error"),
        ("extension_used_not_found", "warning"),
    }
    doc = tileset({**root, "extensions": {}}, extensionsUsed=["VENDOR_unused"])
    assert codes(check_tileset(write(tmp_path, doc))) == {"extension_used_not_found"}
    assert_valid_tileset(tmp_path / "tileset.json")  # a warning alone does not fail


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"transform": [1.0] * 15}, "transform_invalid"),
        ({"transform": [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]}, "transform_invalid"),
        ({"boundingVolume": {"box": [0] * 12, "sphere": [0, 0, 0, 1]}}, "bounding_volume_invalid"),
        ({"boundingVolume": {"sphere": [0, 0, 0, -1]}}, "bounding_volume_invalid"),
        ({"boundingVolume": {"box": [0] * 11}}, "bounding_volume_invalid"),
        ({"boundingVolume": None}, "bounding_volume_missing"),
        ({"geometricError": "1"}, "invalid_type"),
        ({"refine": "add"}, "refine_invalid"),
        ({"contents": []}, "contents_empty"),
        ({"content": {"url": "a.glb"}}, "content_uri_missing"),
        (
            {
                "implicitTiling": {
                    "subdivisionScheme": "QUADTREE",
                    "subtreeLevels": 2,
                    "availableLevels": 2,
                    "subtrees": {"uri": "s/{level}.{x}.{y}.subtree"},
                }
            },
            "implicit_subtree_missing",
        ),
    ],
)
def test_tile_rules(tmp_path: Path, change: dict[str, Any], code: str) -> None:
    root: dict[str, Any] = {
        "boundingVolume": box(0, 0, 0, 1, 1, 1),
        "geometricError": 1,
        "refine": "ADD",
        **change,
    }
    root = {k: v for k, v in root.items() if v is not None}
    assert codes(check_tileset(write(tmp_path, tileset(root)))) == {code}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\xef\xbb\xbf{}", "invalid_json"),
        (b'{"asset": {"version": "1.1"}, "asset": {}}', "duplicate_key"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[1, 2]", "invalid_type"),
        (b"[" * 100_000, "invalid_json"),
    ],
)
def test_json_level_problems(tmp_path: Path, raw: bytes, code: str) -> None:
    (tmp_path / "tileset.json").write_bytes(raw)
    assert code in codes(check_tileset(tmp_path / "tileset.json"))


@pytest.mark.parametrize(
    "root",
    [
        [],
        None,
        {"children": [None, 3, []]},
        {"content": None, "contents": {}},
        {"boundingVolume": {"box": ["a"] * 12}, "transform": [True] * 16},
        # Overflowing to infinity once transformed: LAPACK would spin forever on it.
        {
            "boundingVolume": {"box": [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1e308]},
            "geometricError": 1,
            "refine": "ADD",
            "transform": [1e308, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
            "content": {"uri": "data:,", "boundingVolume": {"sphere": [0, 0, 0, 1e308]}},
        },
    ],
)
def test_hostile_documents_give_issues_not_exceptions(tmp_path: Path, root: Any) -> None:
    doc = {"asset": "1.1", "geometricError": [], "extensionsUsed": {}, "root": root}
    assert check_tileset(write(tmp_path, doc))


def test_issues_of_one_kind_are_capped(tmp_path: Path) -> None:
    children = [{"boundingVolume": box(0, 0, 0, 1, 1, 1), "geometricError": -1}] * 80
    root = {
        "boundingVolume": box(0, 0, 0, 1, 1, 1),
        "geometricError": 1,
        "refine": "ADD",
        "children": children,
    }
    issues = check_tileset(write(tmp_path, tileset(root)))
    assert len(issues) == 51
    assert issues[-1] == Issue("geometric_error_negative", "and 30 more", "")


def test_absent_tileset(tmp_path: Path) -> None:
    assert codes(check_tileset(tmp_path / "nope.json")) == {"tileset_missing"}


def test_geodetic_round_trip() -> None:
    lon = np.radians([18.07, 11.97, -75.15, 139.75, 179.99])
    lat = np.radians([59.33, 57.71, 39.95, -35.68, 0.0])
    height = np.array([20.0, -30.0, 5000.0, 0.0, 100.0])
    back = to_geodetic(to_ecef(lon, lat, height))
    np.testing.assert_allclose(back[0], lon, atol=1e-12)
    np.testing.assert_allclose(back[1], lat, atol=1e-12)
    np.testing.assert_allclose(back[2], height, atol=1e-6)


@pytest.mark.shared_data
def test_every_invalid_reference_file_is_mapped(shared_data: Path) -> None:
    names = {p.name for p in (shared_data / "3dtiles-validator-invalid").glob("*.json")}
    assert names == set(INVALID)


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "code"), sorted(INVALID.items()))
def test_reference_invalid_tilesets_fail(shared_data: Path, name: str, code: str) -> None:
    path = shared_data / "3dtiles-validator-invalid" / name
    assert code in codes(check_tileset(path))
    with pytest.raises(InvalidTileset, match=code):
        assert_valid_tileset(path)


@pytest.mark.shared_data
def test_geometric_error_rule_finds_both_offenders(shared_data: Path) -> None:
    path = (
        shared_data
        / "3dtiles-validator-invalid"
        / "tileGeometricErrorNotSmallerThanParentGeometricError.json"
    )
    assert [(i.code, i.path) for i in check_tileset(path)] == [
        ("geometric_error_not_decreasing", "root.children[0].children[2].geometricError"),
        ("geometric_error_not_decreasing", "root.children[1].geometricError"),
    ]


@pytest.mark.shared_data
@pytest.mark.parametrize("rel", SAMPLES)
def test_reference_samples_pass(shared_data: Path, rel: str) -> None:
    assert check_tileset(shared_data / "3dtiles-cesium-samples" / rel) == []
