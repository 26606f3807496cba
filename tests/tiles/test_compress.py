"""Compression (tiles/compress.py): quantised (by default) and meshopt-encoded (opt-in)
glbs that decode to the uncompressed geometry within 1 cm, keep feature ids and property
tables, and validate. The meshopt tests need the optional ``meshoptimizer`` package."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from glbtools import Glb, load_tileset

from tiles import ConvertOptions, convert
from tiles.compress import MAX_STEP, MESHOPT, QUANTIZATION, compress_glb, read_glb
from tiles.gltf_validator import find_node_modules, validate_glbs
from tiles.validate import check_tileset

try:
    import meshoptimizer  # noqa: F401

    _HAVE_MESHOPT = True
except ImportError:
    _HAVE_MESHOPT = False

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "delft.city.json"
TEXTURED = REPO / "tests" / "fixtures" / "cityjson" / "textured" / "textured.city.json"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("compress")
    convert(DEMO, base / "plain", ConvertOptions(compression=False))
    convert(DEMO, base / "packed")  # quantisation is the default
    out = {"plain": base / "plain", "packed": base / "packed"}
    if _HAVE_MESHOPT:
        convert(DEMO, base / "meshopt", ConvertOptions(meshopt=True))
        out["meshopt"] = base / "meshopt"
    return out


def _meshopt(demo: dict[str, Path]) -> Path:
    if "meshopt" not in demo:
        pytest.skip("the optional meshoptimizer package is not installed (--meshopt)")
    return demo["meshopt"]


def _canonical(tris: np.ndarray) -> np.ndarray:
    """Triangles with their smallest index first (meshopt may rotate a triangle's
    vertices; the winding is kept)."""
    t = tris.reshape(-1, 3)
    r = np.argmin(t, axis=1)
    return np.stack([t[np.arange(len(t)), (r + k) % 3] for k in range(3)], axis=1)


@pytest.mark.parametrize("variant", ["packed", "meshopt"])
def test_compressed_tiles_decode_to_the_same_tiles(demo: dict[str, Path], variant: str) -> None:
    plain_set, plain = load_tileset(demo["plain"], parents=True)
    packed_set, packed = load_tileset(
        _meshopt(demo) if variant == "meshopt" else demo["packed"], parents=True
    )
    assert plain_set == packed_set  # same tiles, boxes, errors, uris
    worst, quantised = 0.0, 0
    for a, b in zip(plain, packed, strict=True):
        required = b.json.get("extensionsRequired", [])
        assert (MESHOPT in required) == (variant == "meshopt")
        assert QUANTIZATION not in a.json.get("extensionsUsed", [])
        pa = a.attribute("POSITION").astype(np.float64) + a.translation
        pb = b.attribute("POSITION").astype(np.float64) + b.translation
        worst = max(worst, float(np.abs(pa - pb).max()))
        if "scale" in b.json["nodes"][0]:
            quantised += 1
            assert b.json["nodes"][0]["scale"][0] / 32767 <= MAX_STEP
        normal = np.linalg.norm(a.attribute("NORMAL") - b.attribute("NORMAL"), axis=1)
        assert normal.max() < 0.02
        for name in ("_FEATURE_ID_0", "_FEATURE_ID_1", "COLOR_0"):
            assert np.array_equal(a.attribute(name), b.attribute(name)), name
        assert np.array_equal(
            _canonical(a.primitive_indices(0)), _canonical(b.primitive_indices(0))
        )
        assert a.property_table(0) == b.property_table(0)
        assert a.property_table(1) == b.property_table(1)
        assert a.json["extensions"] == b.json["extensions"]  # schema and tables untouched
    assert worst < 0.005, f"a vertex moved {worst:.4f} m"
    assert quantised >= 5, "the demo's smaller tiles should have quantised positions"


def test_compressed_demo_is_valid_and_smaller(demo: dict[str, Path]) -> None:
    assert check_tileset(demo["packed"] / "tileset.json") == []
    files = sorted((demo["packed"] / "tiles").glob("*.glb"))
    for path, report in validate_glbs(files).items():
        assert (report.errors, report.warnings) == (0, 0), (path.name, report.messages[:5])
        # The validator (2.0.0-dev.3.10) checks KHR_mesh_quantization's data.
        unsupported = {
            m["message"].split("'")[1]
            for m in report.messages
            if m["code"] == "UNSUPPORTED_EXTENSION"
        }
        assert unsupported == {"EXT_mesh_features", "EXT_structural_metadata"}
    plain_files = sorted((demo["plain"] / "tiles").glob("*.glb"))
    plain = sum(p.stat().st_size for p in plain_files)
    packed = sum(p.stat().st_size for p in files)
    assert packed < 0.8 * plain, (packed, plain)
    # As served (gzip): what a viewer downloads. Wide tiles keep float positions, so the
    # gain is mostly the quantised normals, ids and the smaller tiles' positions.
    gz_plain = sum(len(gzip.compress(p.read_bytes(), 6)) for p in plain_files)
    gz_packed = sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)
    assert gz_packed < 0.8 * gz_plain, (gz_packed, gz_plain)


def test_meshopt_layout_follows_the_extension(demo: dict[str, Path]) -> None:
    glb = Glb(_meshopt(demo) / "tiles" / "0_3.glb")
    doc = glb.json
    buffers = doc["buffers"]
    assert len(buffers) == 2
    assert "uri" not in buffers[0]
    assert "uri" not in buffers[1]
    assert buffers[1]["extensions"][MESHOPT] == {"fallback": True}
    geometry = {i for p in glb.primitives for i in [*p["attributes"].values(), p["indices"]]}
    for i, acc in enumerate(doc["accessors"]):
        view = doc["bufferViews"][acc["bufferView"]]
        ext = view.get("extensions", {}).get(MESHOPT)
        if i not in geometry:  # property tables stay plain, in the GLB's buffer
            assert ext is None
            assert view["buffer"] == 0
            continue
        assert view["buffer"] == 1
        assert ext["buffer"] == 0
        assert ext["byteOffset"] + ext["byteLength"] <= buffers[0]["byteLength"]
        assert view["byteOffset"] + view["byteLength"] <= buffers[1]["byteLength"]
        assert ext["count"] * ext["byteStride"] == view["byteLength"]
        if view.get("target") == 34963:
            assert ext["mode"] == "TRIANGLES"
            assert ext["byteStride"] in (2, 4)
            assert "byteStride" not in view
        else:
            assert ext["mode"] == "ATTRIBUTES"
            assert ext["byteStride"] % 4 == 0
            assert view["byteStride"] == ext["byteStride"]
    attrs = glb.primitive["attributes"]
    kinds = {n: doc["accessors"][i]["componentType"] for n, i in attrs.items()}
    assert kinds == {
        "POSITION": 5122,
        "NORMAL": 5120,
        "COLOR_0": 5121,
        "_FEATURE_ID_0": 5123,
        "_FEATURE_ID_1": 5123,
    }
    assert doc["accessors"][glb.primitive["indices"]]["componentType"] == 5123


def test_meshopt_streams_decode_with_the_javascript_decoder(demo: dict[str, Path]) -> None:
    """The npm ``meshoptimizer`` decoder (the one CesiumJS ships) gives the same bytes as
    the Python decoder glbtools uses."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not installed")
    path = _meshopt(demo) / "tiles" / "0_3_1.glb"
    glb = Glb(path)
    doc, binary = read_glb(path.read_bytes())
    jobs = []
    for i, view in enumerate(doc["bufferViews"]):
        ext = view.get("extensions", {}).get(MESHOPT)
        if ext:
            blob = binary[ext["byteOffset"] : ext["byteOffset"] + ext["byteLength"]]
            jobs.append({"view": i, "data": blob.hex(), **ext})
    script = """
    const { MeshoptDecoder } = await import(process.argv[1] + '/meshoptimizer/index.js');
    await MeshoptDecoder.ready;
    const jobs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    const out = jobs.map((j) => {
      const target = new Uint8Array(j.count * j.byteStride);
      MeshoptDecoder.decodeGltfBuffer(target, j.count, j.byteStride,
        Buffer.from(j.data, 'hex'), j.mode, j.filter || 'NONE');
      return Buffer.from(target).toString('hex');
    });
    console.log(JSON.stringify(out));
    """
    fail = "(e) => { console.error(e); process.exit(1); }"
    wrapped = f"(async () => {{ {script} }})().catch({fail});"
    done = subprocess.run(
        [node, "-e", wrapped, str(find_node_modules())],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    decoded = json.loads(done.stdout)
    assert len(decoded) == len(jobs) >= 5
    for job, hexdata in zip(jobs, decoded, strict=True):
        assert bytes.fromhex(hexdata) == glb.view(job["view"]), job["view"]


def test_quantisation_alone_passes_the_validator_data_checks(demo: dict[str, Path]) -> None:
    """Without meshopt the validator reads the quantised data (min/max, normals' length)."""
    out = demo["plain"].parent / "quantised"
    out.mkdir(exist_ok=True)
    paths = []
    for src in sorted((demo["plain"] / "tiles").glob("*.glb")):
        data = compress_glb(src.read_bytes(), meshopt=False)
        doc, _ = read_glb(data)
        assert MESHOPT not in doc.get("extensionsUsed", [])
        (out / src.name).write_bytes(data)
        paths.append(out / src.name)
    for path, report in validate_glbs(paths).items():
        assert (report.errors, report.warnings) == (0, 0), (path.name, report.messages[:5])
        glb = Glb(path)
        if QUANTIZATION in glb.json.get("extensionsUsed", []):
            assert QUANTIZATION in glb.json["extensionsRequired"]


def test_wide_tiles_keep_float_positions(demo: dict[str, Path]) -> None:
    """One 16-bit step over the root tile's ~1 km would be several cm: it stays float."""
    tileset, _glbs = load_tileset(demo["packed"], parents=True)
    box = np.array(tileset["root"]["boundingVolume"]["box"])
    assert np.abs(box[3:]).max() / 32767 > MAX_STEP
    root = Glb(demo["packed"] / tileset["root"]["content"]["uri"])
    assert "scale" not in root.json["nodes"][0]
    assert root.json["accessors"][root.primitive["attributes"]["POSITION"]]["componentType"] == (
        5126
    )


def test_compressing_twice_changes_nothing(demo: dict[str, Path]) -> None:
    data = (demo["packed"] / "tiles" / "0_3.glb").read_bytes()
    assert compress_glb(data, meshopt=False) == data


def test_textured_tiles_quantise_texture_coordinates(tmp_path: Path) -> None:
    convert(TEXTURED, tmp_path / "plain", ConvertOptions(compression=False))
    convert(TEXTURED, tmp_path / "packed")
    _, plain = load_tileset(tmp_path / "plain")
    _, packed = load_tileset(tmp_path / "packed")
    seen = 0
    for a, b in zip(plain, packed, strict=True):
        for k, prim in enumerate(b.primitives):
            if "TEXCOORD_0" not in prim["attributes"]:
                continue
            acc: dict[str, Any] = b.json["accessors"][prim["attributes"]["TEXCOORD_0"]]
            uv_a = a.primitive_attribute(k, "TEXCOORD_0")
            uv_b = b.primitive_attribute(k, "TEXCOORD_0")
            if uv_a.min() >= 0 and uv_a.max() <= 1:
                seen += 1
                assert acc["componentType"] == 5123
                assert acc["normalized"] is True
                assert np.abs(uv_a - uv_b).max() <= 0.5 / 65535 + 1e-7
            else:  # a repeating texture (uv beyond [0, 1]) keeps float coordinates
                assert acc["componentType"] == 5126
                assert np.array_equal(uv_a, uv_b)
    assert seen
    reports = validate_glbs(sorted((tmp_path / "packed" / "tiles").glob("*.glb")))
    assert all(r.errors == 0 for r in reports.values())


def test_meshopt_without_its_package_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from tiles.errors import InputError

    monkeypatch.setitem(sys.modules, "meshoptimizer", None)  # as if not installed
    with pytest.raises(InputError, match="meshoptimizer"):
        convert(TEXTURED, tmp_path / "out", ConvertOptions(meshopt=True))
    assert not (tmp_path / "out").exists()  # nothing half-written is left
