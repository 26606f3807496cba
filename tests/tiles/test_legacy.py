"""3D Tiles 1.0 output (tiles/legacy.py): b3dm tiles with a batch table, in place."""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest
from cityjson_source import load, merged_attributes, surface_vertices
from glbtools import Glb, load_tileset, root_transform
from test_convert import assert_same, expected_ecef

from tiles import ConvertOptions, convert
from tiles.errors import InputError
from tiles.gltf_validator import validate_glbs
from tiles.legacy import b3dm_bytes, b3dm_problems, read_b3dm
from tiles.validate import check_tileset

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "delft.city.json"
SAMPLES = "3dtiles-cesium-samples/1.0/TilesetWithRequestVolume/city"


@pytest.fixture(scope="module", params=[True, False], ids=["compressed", "plain"])
def legacy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("legacy") / "out"
    convert(DEMO, out, ConvertOptions(tiles_version="1.0", compression=request.param))
    return out


def test_tileset_is_1_0_with_b3dm_content(legacy: Path) -> None:
    assert check_tileset(legacy / "tileset.json") == []
    tileset, glbs = load_tileset(legacy, parents=True)
    assert tileset["asset"]["version"] == "1.0"
    assert "transform" in tileset["root"]  # placement as in 1.1: the root transform
    files = sorted((legacy / "tiles").iterdir())
    assert files
    assert all(f.suffix == ".b3dm" for f in files)
    assert len(glbs) == len(files)
    for glb in glbs:
        used = set(glb.json.get("extensionsUsed", []))
        assert not used & {"EXT_mesh_features", "EXT_structural_metadata"}
        assert "EXT_meshopt_compression" not in used
        assert "extensions" not in glb.json
        for prim in glb.primitives:
            assert set(prim["attributes"]) == {"POSITION", "NORMAL", "COLOR_0", "_BATCHID"}
            assert "extensions" not in prim
        ids = glb.attribute("_BATCHID")
        assert int(ids.max()) + 1 == glb.feature_table["BATCH_LENGTH"]
        assert set(glb.batch_table) >= {"id", "type"}


def test_b3dm_layout_is_aligned_and_validates(legacy: Path) -> None:
    files = sorted((legacy / "tiles").glob("*.b3dm"))
    for path in files:
        data = path.read_bytes()
        assert b3dm_problems(data) == []
        magic, version, total, fj, fb, bj, bb = struct.unpack_from("<4s6I", data, 0)
        assert (magic, version, total) == (b"b3dm", 1, len(data))
        assert total % 8 == 0  # so the glb ends on an 8-byte boundary
        for end in np.cumsum([28, fj, fb, bj, bb])[1:]:
            assert end % 8 == 0
        glb_start = 28 + fj + fb + bj + bb
        assert data[glb_start : glb_start + 4] == b"glTF"
        assert struct.unpack_from("<I", data, glb_start + 8)[0] == total - glb_start
    for path, report in validate_glbs(files).items():  # the embedded glb, and the header
        assert report.errors == 0, (path.name, report.messages[:5])
        assert report.warnings == 0, (path.name, report.messages[:5])


def test_batch_table_and_placement_match_the_source(legacy: Path) -> None:
    tileset, glbs = load_tileset(legacy)
    _, objects = load(DEMO)
    where: dict[str, tuple[Glb, int]] = {}
    for glb in glbs:
        for row, oid in enumerate(glb.batch_values("id")):
            where[oid] = (glb, row)
    assert len(where) == 570
    m = root_transform(tileset)
    ecef = {id(g): g.ecef_positions(m) for g in glbs}
    worst = 0.0
    for oid in random.Random(11).sample(sorted(where), 40):
        glb, row = where[oid]
        assert glb.batch_values("type")[row] == objects[oid]["type"]
        for name, value in merged_attributes(objects, oid).items():
            assert name in glb.batch_table, f"{oid}: attribute {name!r} missing"
            assert_same(glb.batch_values(name)[row], value, f"{oid}.{name}")
        mine = ecef[id(glb)][glb.attribute("_BATCHID") == row]
        want = expected_ecef("EPSG:7415", "xy", surface_vertices(objects[oid]))
        d = np.linalg.norm(want[:, None, :] - mine[None, :, :], axis=2).min(axis=1)
        worst = max(worst, float(d.max()))
    assert worst < 0.01, f"a source vertex is {worst:.4f} m from where pyproj puts it"


def test_numbers_go_to_the_binary_body() -> None:
    glb = Glb.__new__(Glb)  # only the b3dm reader is exercised here
    body = np.array([1.5, -2.25], dtype="<f8").tobytes()
    data = b3dm_bytes(
        _tiny_glb(),
        {"height": {"byteOffset": 0, "componentType": "DOUBLE", "type": "SCALAR"}},
        body,
        2,
    )
    feature, batch, binary, embedded = read_b3dm(data)
    assert feature == {"BATCH_LENGTH": 2}
    assert batch["height"]["componentType"] == "DOUBLE"
    assert np.frombuffer(binary, "<f8", count=2).tolist() == [1.5, -2.25]
    assert embedded[:4] == b"glTF"
    assert b3dm_problems(data) == []
    glb._unwrap_b3dm(data)
    assert glb.batch_values("height") == [1.5, -2.25]


def test_b3dm_problems_are_found() -> None:
    good = b3dm_bytes(_tiny_glb(), {"id": ["a", "b"]}, b"", 2)
    assert b3dm_problems(good) == []
    assert "shorter" in b3dm_problems(good[:20])[0]
    assert "byteLength" in b3dm_problems(good[:-8])[0]
    assert "not a b3dm" in b3dm_problems(b"i3dm" + good[4:])[0]
    wrong_count = b3dm_bytes(_tiny_glb(), {"id": ["a"]}, b"", 2)
    assert b3dm_problems(wrong_count) == ["batch table 'id' has 1 values for 2 ids"]
    # A feature table JSON of odd length: the sections after it are misaligned.
    header = struct.Struct("<4s6I")
    ft = b'{"BATCH_LENGTH":0}'
    glb = _tiny_glb()
    data = header.pack(b"b3dm", 1, 28 + len(ft) + len(glb), len(ft), 0, 0, 0) + ft + glb
    problems = b3dm_problems(data)
    assert any("feature table JSON does not end on an 8-byte boundary" in p for p in problems)


@pytest.mark.shared_data
def test_cesium_1_0_samples_read_and_pass(shared_data: Path) -> None:
    folder = shared_data / SAMPLES
    files = sorted(folder.glob("*.b3dm"))
    assert len(files) == 4
    for path in files:
        data = path.read_bytes()
        assert b3dm_problems(data) == []
        feature, batch, _, glb = read_b3dm(data)
        assert feature["BATCH_LENGTH"] == len(batch["id"]) == 10
        assert glb[:4] == b"glTF"
    assert check_tileset(folder / "tileset.json") == []


def test_unknown_tiles_version_is_refused() -> None:
    with pytest.raises(InputError, match=r"1\.0 or 1\.1"):
        ConvertOptions(tiles_version="2.0")


def _tiny_glb() -> bytes:
    doc = json.dumps({"asset": {"version": "2.0"}}).encode()
    doc += b" " * ((-len(doc)) % 4)
    total = 12 + 8 + len(doc)
    return struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(doc), b"JSON") + doc
