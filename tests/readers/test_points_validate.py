"""The structural checks read ``pnts`` content: a tile that does not decode, or whose
points leave its bounding volume, fails; the decoder handles every position encoding."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from points_tools import synthetic, write_las

from tiles import convert
from tiles.validate import check_tileset
from tiles.validate_pnts import PntsError, read_pnts


def _pnts(feature: dict, binary: bytes, batch: dict | None = None, bbin: bytes = b"") -> bytes:
    fjson = json.dumps(feature).encode()
    fjson += b" " * (-(28 + len(fjson)) % 8)
    bjson = json.dumps(batch).encode() if batch else b""
    if bjson:
        bjson += b" " * (-(28 + len(fjson) + len(binary) + len(bjson)) % 8)
    total = 28 + len(fjson) + len(binary) + len(bjson) + len(bbin)
    head = struct.pack(
        "<4sIIIIII", b"pnts", 1, total, len(fjson), len(binary), len(bjson), len(bbin)
    )
    return head + fjson + binary + bjson + bbin


def test_decoder_quantized_rtc_and_batch_table() -> None:
    q = np.array([[0, 0, 0], [65535, 65535, 65535], [32768, 0, 65535]], dtype=np.uint16)
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    binary = q.tobytes() + rgb.tobytes()
    binary += b"\0" * (-len(binary) % 8)
    feature = {
        "POINTS_LENGTH": 3,
        "POSITION_QUANTIZED": {"byteOffset": 0},
        "QUANTIZED_VOLUME_OFFSET": [-10.0, -20.0, 0.0],
        "QUANTIZED_VOLUME_SCALE": [20.0, 40.0, 5.0],
        "RTC_CENTER": [1000.0, 2000.0, 3000.0],
        "RGB": {"byteOffset": q.nbytes},
    }
    cls = np.array([2, 5, 6], dtype=np.uint8)
    batch = {
        "classification": {"byteOffset": 0, "componentType": "UNSIGNED_BYTE", "type": "SCALAR"}
    }
    tile = read_pnts(_pnts(feature, binary, batch, cls.tobytes() + b"\0" * 5))
    want = np.array([[990, 1980, 3000], [1010, 2020, 3005], [1000.00015, 1980, 3005]])
    assert np.allclose(tile.positions, want, atol=1e-3)
    assert tile.rgb is not None
    assert tile.rgb.tolist() == rgb.tolist()
    assert tile.batch["classification"].tolist() == [2, 5, 6]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"b3dm" + b[4:], "not pnts"),
        (lambda b: b[:-4], "byteLength"),
        (lambda b: b[:20], "header"),
    ],
)
def test_decoder_refuses_broken_tiles(mutate, message: str) -> None:
    pos = np.zeros((2, 3), dtype=np.float32)
    good = _pnts({"POINTS_LENGTH": 2, "POSITION": {"byteOffset": 0}}, pos.tobytes())
    assert read_pnts(good).positions.shape == (2, 3)
    with pytest.raises(PntsError, match=message):
        read_pnts(mutate(good))


def test_position_past_the_body_is_refused() -> None:
    pos = np.zeros((2, 3), dtype=np.float32)
    bad = _pnts({"POINTS_LENGTH": 5, "POSITION": {"byteOffset": 0}}, pos.tobytes())
    with pytest.raises(PntsError, match="past the end"):
        read_pnts(bad)


@pytest.fixture
def tileset(tmp_path: Path) -> Path:
    src = write_las(
        tmp_path / "a.las", synthetic(356_750.0, 6_214_030.0, 20.0, side=50), "EPSG:3006"
    )
    out = tmp_path / "out"
    convert(src, out)
    assert check_tileset(out / "tileset.json") == []
    return out


def _leaf(tile: dict) -> dict:
    return tile if "children" not in tile else _leaf(tile["children"][-1])


def test_corrupt_pnts_fails_the_checks(tileset: Path) -> None:
    doc = json.loads((tileset / "tileset.json").read_text())
    uri = _leaf(doc["root"])["content"]["uri"]
    data = (tileset / uri).read_bytes()
    (tileset / uri).write_bytes(data[: len(data) // 2])
    codes = {i.code for i in check_tileset(tileset / "tileset.json")}
    assert codes == {"pnts_invalid"}


def test_points_outside_their_tile_fail_the_checks(tileset: Path) -> None:
    path = tileset / "tileset.json"
    doc = json.loads(path.read_text())
    leaf = _leaf(doc["root"])
    box = leaf["boundingVolume"]["box"]
    leaf["boundingVolume"]["box"] = box[:3] + [v * 0.5 for v in box[3:]]
    path.write_text(json.dumps(doc))
    issues = check_tileset(path)
    assert {i.code for i in issues} == {"content_not_inside_tile"}
    assert "outside the tile's volume" in issues[0].message
