"""The mesh reader: OBJ (+MTL, textures), glTF/GLB and PLY through trimesh.

Fixtures in tests/fixtures/meshes/ (CC0, written by make_fixtures.py there); hostile
inputs are written by the tests into their temporary folder.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from glbtools import Glb
from PIL import Image

from tiles import ConvertOptions
from tiles.errors import (
    CRSRequired,
    CRSUnknown,
    EmptyInput,
    InvalidMesh,
    InvalidOffset,
    TilesError,
    UnsafeXML,
    VertexIndexError,
)
from tiles.readers import mesh, points, read, sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meshes"
OBJ, GLB, PLY = FIXTURES / "house.obj", FIXTURES / "towers.glb", FIXTURES / "terrain.ply"
SWEREF = ConvertOptions(crs="EPSG:3006", origin=(361000.0, 6214000.0, 20.0))


def copy_fixtures(dest: Path, *names: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names or ("house.obj", "house.mtl", "facade.png"):
        shutil.copy(FIXTURES / name, dest / name)
    return dest


def by_id(path: Path, options: ConvertOptions = SWEREF) -> dict[str, object]:
    return {f.id: f for f in read(path, options).features}


# -- sniffing -------------------------------------------------------------------------------
def test_each_fixture_is_sniffed_as_a_mesh() -> None:
    for path in (OBJ, GLB, PLY):
        assert sniff(path) is mesh, path.name


def test_side_files_and_point_plys_are_not_meshes(tmp_path: Path) -> None:
    head = (FIXTURES / "house.mtl").read_bytes()
    assert not mesh.sniff(FIXTURES / "house.mtl", head)
    assert not mesh.sniff(FIXTURES / "facade.png", (FIXTURES / "facade.png").read_bytes())
    cloud = tmp_path / "cloud.ply"
    cloud.write_text(
        "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n0 0 0\n1 1 1\n"
    )
    assert sniff(cloud) is points
    geojson = tmp_path / "a.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}')
    assert not mesh.sniff(geojson, geojson.read_bytes())


def test_a_renamed_obj_is_still_read(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path / "m")
    renamed = folder / "upload"
    (folder / "house.obj").rename(renamed)
    assert sniff(renamed) is mesh
    assert sorted(by_id(renamed)) == ["house", "shed"]


# -- OBJ ------------------------------------------------------------------------------------
def test_obj_objects_become_features_with_attributes() -> None:
    data = read(OBJ, SWEREF)
    assert data.format == "OBJ mesh"
    assert data.crs_text == "EPSG:3006"
    assert data.axis_order == "xy"
    feats = {f.id: f for f in data.features}
    assert sorted(feats) == ["house", "shed"]
    house, shed = feats["house"], feats["shed"]
    assert house.type == "Mesh"
    assert house.attributes["name"] == "house"
    assert house.attributes["source"] == "house.obj"
    assert set(house.attributes["materials"].split(", ")) == {"facade", "roof"}
    assert shed.attributes["materials"] == "roof"
    assert house.mesh.triangle_count == 4
    assert shed.mesh.triangle_count == 2
    # shed: 20..24 east, 0..3 north, 0..2.5 up, offsets from the origin
    lo, hi = shed.mesh.positions.min(axis=0), shed.mesh.positions.max(axis=0)
    np.testing.assert_allclose(lo, [361020.0, 6214000.0, 20.0])
    np.testing.assert_allclose(hi, [361024.0, 6214003.0, 22.5])
    assert any("origin (361000.000, 6214000.000, 20.000) from --origin" in w for w in data.warnings)


def test_obj_materials_uvs_and_texture_bytes_round_trip() -> None:
    data = read(OBJ, SWEREF)
    mats = {m.name: m for m in data.materials}
    assert set(mats) == {"facade", "roof"}
    roof, facade = mats["roof"], mats["facade"]
    assert roof.color == pytest.approx((0.6, 0.2, 0.1, 0.5), abs=1 / 255)  # Kd and d
    assert roof.image is None
    assert facade.image is not None
    image = data.images[facade.image]
    assert image.name == "facade.png"
    assert image.mime_type == "image/png"
    assert image.data == (FIXTURES / "facade.png").read_bytes()  # the file's own bytes
    house = next(f for f in data.features if f.id == "house")
    m = house.mesh
    assert m.materials is not None
    assert m.uvs is not None
    assert m.uvs.dtype == np.float32
    assert m.uvs.shape == (m.positions.shape[0], 2)
    facade_index = data.materials.index(facade)
    tris = m.triangles[m.materials == facade_index]
    assert len(tris) == 2
    # each facade corner keeps its vt: (0,0) west-bottom, (1,0) east-bottom, (1,1), (0,1)
    local = m.positions - np.array([361000.0, 6214000.0, 20.0])
    for v in np.unique(tris):
        x, _, z = local[v]
        assert tuple(m.uvs[v]) == (pytest.approx(x / 10), pytest.approx(z / 6))


def test_obj_without_materials_has_no_appearance(tmp_path: Path) -> None:
    path = tmp_path / "plain.obj"
    path.write_text("o a\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    data = read(path, SWEREF)
    assert data.materials == []
    assert data.images == []
    assert data.features[0].mesh.materials is None
    assert data.features[0].mesh.uvs is None


# -- glTF / GLB -----------------------------------------------------------------------------
def test_glb_nodes_become_features_with_extras() -> None:
    data = read(GLB, SWEREF)
    assert data.format == "glTF mesh"
    feats = {f.id: f for f in data.features}
    assert sorted(feats) == ["kiosk", "tower"]
    tower = feats["tower"]
    assert tower.attributes["floors"] == 4
    assert tower.attributes["architect"] == "Ada"
    assert tower.attributes["materials"] == "brick"
    assert tower.attributes["source"] == "towers.glb"
    assert any("up axis y (the default for GLTF" in w for w in data.warnings)


def test_glb_texture_and_uvs_round_trip() -> None:
    data = read(GLB, SWEREF)
    mats = {m.name: m for m in data.materials}
    assert mats["green"].color == pytest.approx((40 / 255, 160 / 255, 60 / 255, 1.0))
    assert mats["green"].image is None
    brick = mats["brick"]
    assert brick.image is not None
    img = Image.open(io.BytesIO(data.images[brick.image].data or b""))
    assert img.size == (8, 8)
    assert img.convert("RGB").getpixel((0, 0)) == (220, 30, 30)  # top-left red
    assert img.convert("RGB").getpixel((7, 7)) == (250, 250, 250)
    # UVs: the glb's TEXCOORD_0 with v flipped (the model's origin is bottom-left)
    glb = Glb(GLB)
    prim = next(m for m in glb.json["meshes"] if m["name"] == "tower_mesh")["primitives"][0]
    want = glb.accessor(prim["attributes"]["TEXCOORD_0"]).astype(np.float64)
    pos = glb.accessor(prim["attributes"]["POSITION"]).astype(np.float64)
    tower = next(f for f in data.features if f.id == "tower")
    assert tower.mesh.uvs is not None
    # match vertices through their position (y-up box at (10, 6, -5) -> east, north, up)
    placed = np.column_stack([pos[:, 0] + 10, -(pos[:, 2] - 5), pos[:, 1] + 6])
    local = tower.mesh.positions - np.array([361000.0, 6214000.0, 20.0])
    for i, p in enumerate(placed):
        j = int(np.argmin(np.linalg.norm(local - p, axis=1)))
        assert np.linalg.norm(local[j] - p) < 1e-6
        np.testing.assert_allclose(tower.mesh.uvs[j], [want[i, 0], 1 - want[i, 1]], atol=1e-6)


# -- PLY ------------------------------------------------------------------------------------
def test_ply_is_one_feature_and_its_colours_are_reported_dropped() -> None:
    data = read(PLY, SWEREF)
    assert data.format == "PLY mesh"
    assert [f.id for f in data.features] == ["terrain"]
    assert data.features[0].mesh.triangle_count == 8
    assert any("colours" in w and "dropped" in w for w in data.warnings)


# -- refusals and hostile inputs ------------------------------------------------------------
def expect(
    exc_type: type[TilesError],
    code: str,
    path: Path,
    options: ConvertOptions,
    source: str | None = None,
) -> str:
    with pytest.raises(exc_type) as info:
        read(path, options)
    assert info.value.code == code
    assert info.value.source == (source or path.name)
    return info.value.message


@pytest.mark.parametrize("path", [OBJ, GLB, PLY], ids=lambda p: p.suffix)
def test_a_mesh_without_crs_is_refused(path: Path) -> None:
    message = expect(CRSRequired, "crs_required", path, ConvertOptions())
    assert "--crs" in message


def test_texture_outside_the_folder_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    shutil.copy(FIXTURES / "facade.png", secret)
    folder = copy_fixtures(tmp_path / "deep" / "model")
    (folder / "house.mtl").write_text(
        "newmtl facade\nKd 1 1 1\nmap_Kd ../../secret.png\n"
        "newmtl roof\nKd 1 0 0\nmap_Kd /etc/passwd\n"
    )
    (folder / "link.png").symlink_to(secret)
    data = read(folder / "house.obj", SWEREF)
    assert data.images == []  # nothing read: not the secret, not /etc/passwd
    assert all(m.image is None for m in data.materials)
    refused = [w for w in data.warnings if "outside the mesh's folder" in w]
    assert any("../../secret.png" in w for w in refused)
    assert any("/etc/passwd" in w for w in refused)
    # a symbolic link out of the folder is refused too
    (folder / "house.mtl").write_text("newmtl facade\nmap_Kd link.png\n")
    data = read(folder / "house.obj", SWEREF)
    assert data.images == []
    assert any("link.png" in w for w in data.warnings)


def test_gltf_buffer_uri_outside_the_folder_is_refused(tmp_path: Path) -> None:
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"uri": "../../../etc/passwd", "byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
    }
    path = tmp_path / "evil.gltf"
    path.write_text(json.dumps(doc))
    message = expect(InvalidMesh, "invalid_mesh", path, SWEREF)
    assert "'../../../etc/passwd', outside the mesh's folder" in message


def test_obj_with_a_face_index_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "bad.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    expect(VertexIndexError, "vertex_index_out_of_range", path, SWEREF)
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 -7\n")
    expect(VertexIndexError, "vertex_index_out_of_range", path, SWEREF)


def test_empty_and_faceless_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.obj"
    empty.write_bytes(b"")
    with pytest.raises(EmptyInput):
        sniff(empty)
    faceless = tmp_path / "faceless.obj"
    faceless.write_text("# only vertices\nv 0 0 0\nv 1 0 0\n")
    expect(EmptyInput, "empty_input", faceless, SWEREF)


def test_truncated_glb_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "invalid").mkdir()  # left out of the session's validator run
    path = tmp_path / "invalid" / "cut.glb"
    data = GLB.read_bytes()
    path.write_bytes(data[:12] + struct.pack("<I", 500) + data[16:200])
    expect(InvalidMesh, "invalid_mesh", path, SWEREF)


# -- placement side files -------------------------------------------------------------------
def test_offset_file_and_its_errors(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path / "m")
    offset = folder / "house.offset.txt"
    offset.write_text("# exported shift\n361000.5, 6214000.25; 19.5\n")
    data = read(folder / "house.obj", ConvertOptions(crs="EPSG:3006"))
    shed = next(f for f in data.features if f.id == "shed")
    np.testing.assert_allclose(shed.mesh.positions.min(axis=0), [361020.5, 6214000.25, 19.5])
    assert any("from house.offset.txt" in w for w in data.warnings)
    offset.unlink()  # Pix4D names it <project>_offset.xyz
    (folder / "project_offset.xyz").write_text("361001 6214002 21\n")
    data = read(folder / "house.obj", ConvertOptions(crs="EPSG:3006"))
    shed = next(f for f in data.features if f.id == "shed")
    np.testing.assert_allclose(shed.mesh.positions.min(axis=0), [361021.0, 6214002.0, 21.0])
    assert any("from project_offset.xyz" in w for w in data.warnings)
    offset.write_text("361000 6214000\n")
    opts = ConvertOptions(crs="EPSG:3006")
    expect(InvalidOffset, "invalid_offset", folder / "house.obj", opts, "house.offset.txt")


def test_contextcapture_metadata_gives_crs_and_origin(tmp_path: Path) -> None:
    production = tmp_path / "Production_1"
    folder = copy_fixtures(production / "Data" / "Tile_+000_+000")
    (production / "metadata.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<ModelMetadata version="1">\n'
        "\t<!--Spatial Reference System-->\n\t<SRS>EPSG:3006</SRS>\n"
        "\t<!--Origin in Spatial Reference System-->\n"
        "\t<SRSOrigin>361000,6214000,20</SRSOrigin>\n</ModelMetadata>\n"
    )
    data = read(folder / "house.obj", ConvertOptions())
    assert data.crs_text == "EPSG:3006"
    shed = next(f for f in data.features if f.id == "shed")
    np.testing.assert_allclose(shed.mesh.positions.min(axis=0), [361020.0, 6214000.0, 20.0])
    # --crs and --origin win over the file
    data = read(folder / "house.obj", ConvertOptions(crs="EPSG:3008", origin=(1.0, 2.0, 3.0)))
    assert data.crs_text == "EPSG:3008"
    shed = next(f for f in data.features if f.id == "shed")
    np.testing.assert_allclose(shed.mesh.positions.min(axis=0), [21.0, 2.0, 3.0])


def test_contextcapture_enu_and_doctype_are_refused(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path / "m")
    meta = folder / "metadata.xml"
    meta.write_text("<ModelMetadata><SRS>ENU:56.05,12.70</SRS></ModelMetadata>")
    message = expect(CRSUnknown, "crs_unknown", folder / "house.obj", ConvertOptions())
    assert "re-export" in message
    meta.write_text(
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<ModelMetadata><SRS>&x;</SRS></ModelMetadata>"
    )
    expect(UnsafeXML, "unsafe_xml", folder / "house.obj", ConvertOptions())


def test_bad_up_axis_and_scale(tmp_path: Path) -> None:
    expect(InvalidOffset, "invalid_offset", OBJ, ConvertOptions(crs="EPSG:3006", up="x"))
    expect(InvalidOffset, "invalid_offset", OBJ, ConvertOptions(crs="EPSG:3006", mesh_scale=0))


def test_mesh_scale_converts_units() -> None:
    opts = ConvertOptions(crs="EPSG:3006", origin=(361000.0, 6214000.0, 20.0), mesh_scale=0.001)
    shed = next(f for f in read(OBJ, opts).features if f.id == "shed")
    np.testing.assert_allclose(shed.mesh.positions.max(axis=0), [361000.024, 6214000.003, 20.0025])


# -- companions: what `twin import` copies along ---------------------------------------------
def test_companions_of_obj_gltf_and_side_files(tmp_path: Path) -> None:
    from tiles.readers.mesh_files import companions

    folder = copy_fixtures(tmp_path / "export" / "m")
    (folder / "house.offset.txt").write_text("1 2 3\n")
    (tmp_path / "export" / "secret.png").write_bytes(b"x")
    (folder / "house.mtl").write_text(
        "newmtl facade\nmap_Kd -bm 1.0 facade.png\nmap_Ks ../secret.png\nmap_Ka /etc/passwd\n"
    )
    got = {rel: p.name for p, rel in companions(folder / "house.obj", "upload")}
    assert got == {
        "house.mtl": "house.mtl",
        "facade.png": "facade.png",
        "upload.offset.txt": "house.offset.txt",
    }
    (folder / "tex").mkdir()
    shutil.copy(FIXTURES / "facade.png", folder / "tex" / "a.png")
    (folder / "b.bin").write_bytes(b"\0" * 12)
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"uri": "b.bin", "byteLength": 12}, {"uri": "https://example.org/x.bin"}],
        "images": [{"uri": "tex/a.png"}, {"uri": "data:image/png;base64,AAAA"}],
        "meshes": [],
    }
    (folder / "scene.gltf").write_text(json.dumps(doc))
    got = {rel for _, rel in companions(folder / "scene.gltf")}
    assert got == {"b.bin", "tex/a.png"}  # no URL, no data URI
    assert companions(FIXTURES / "house.mtl") == []


def test_gltf_with_external_files_and_two_primitives(tmp_path: Path) -> None:
    """A .gltf with its buffer and texture in files: one node whose mesh has two
    primitives is one feature; the parent node's translation applies."""
    folder = tmp_path / "scene"
    (folder / "tex").mkdir(parents=True)
    shutil.copy(FIXTURES / "facade.png", folder / "tex" / "facade.png")
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32).tobytes()
    uv = np.array([[0, 1], [1, 1], [0, 0]], dtype=np.float32).tobytes()
    (folder / "data.bin").write_bytes(pos + uv)
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"uri": "data.bin", "byteLength": 60}],
        "bufferViews": [
            {"buffer": 0, "byteLength": 36},
            {"buffer": 0, "byteOffset": 36, "byteLength": 24},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 3,
                "type": "VEC3",
                "min": [0, 0, 0],
                "max": [1, 1, 0],
            },
            {"bufferView": 1, "componentType": 5126, "count": 3, "type": "VEC2"},
        ],
        "images": [{"uri": "tex/facade.png"}],
        "textures": [{"source": 0}],
        "materials": [
            {"name": "painted", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}},
            {"name": "plain", "pbrMetallicRoughness": {"baseColorFactor": [1, 0, 0, 1]}},
        ],
        "meshes": [
            {
                "name": "m",
                "primitives": [
                    {"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "material": 0},
                    {"attributes": {"POSITION": 0}, "material": 1},
                ],
            }
        ],
        "nodes": [
            {"name": "block", "children": [1], "translation": [100, 0, 0]},
            {"name": "wall", "mesh": 0, "extras": {"storey": 2}},
        ],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }
    (folder / "scene.gltf").write_text(json.dumps(doc))
    assert sniff(folder / "scene.gltf") is mesh
    data = read(folder / "scene.gltf", SWEREF)
    (wall,) = data.features
    assert wall.id == "wall"
    assert wall.attributes["storey"] == 2
    assert wall.attributes["materials"] == "painted, plain"
    assert wall.mesh.triangle_count == 2
    assert wall.mesh.positions[:, 0].min() == pytest.approx(361100.0)
    (image,) = data.images
    img = Image.open(io.BytesIO(image.data or b"")).convert("RGB")
    assert img.getpixel((0, 0)) == (220, 30, 30)
    painted = next(i for i, m in enumerate(data.materials) if m.name == "painted")
    assert wall.mesh.materials is not None
    assert wall.mesh.uvs is not None
    rows = np.unique(wall.mesh.triangles[wall.mesh.materials == painted])
    # glTF uv (0, 1) is the image's bottom-left: the model's (0, 0)
    np.testing.assert_allclose(sorted(map(tuple, wall.mesh.uvs[rows])), [(0, 0), (0, 1), (1, 0)])


def test_obj_without_its_mtl_keeps_its_objects_and_says_so(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path / "m", "house.obj")
    data = read(folder / "house.obj", SWEREF)
    assert sorted((f.id, f.mesh.triangle_count) for f in data.features) == [
        ("house", 4),
        ("shed", 2),
    ]
    assert any("'house.mtl' not found beside the mesh" in w for w in data.warnings)


def test_relative_indices_count_from_the_last_vertex_defined(tmp_path: Path) -> None:
    path = tmp_path / "rel.obj"
    path.write_text(
        "o a\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\n"
        "o b\nv 10 0 0\nv 11 0 0\nv 10 1 0\nf -3 -2 -1\n"
    )
    feats = by_id(path)
    local = {k: f.mesh.positions - np.array(SWEREF.origin) for k, f in feats.items()}
    np.testing.assert_allclose(local["a"].min(axis=0), [0, 0, 0])
    np.testing.assert_allclose(local["b"].min(axis=0), [10, 0, 0])


def test_face_index_zero_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zero.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n")
    message = expect(VertexIndexError, "vertex_index_out_of_range", path, SWEREF)
    assert "line 4" in message
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/0 2/1 3/1\n")
    expect(VertexIndexError, "vertex_index_out_of_range", path, SWEREF)


def test_a_texture_that_is_not_an_image_is_skipped_with_a_warning(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path / "m")
    (folder / "facade.png").write_text("<html><script>alert(1)</script></html>")
    data = read(folder / "house.obj", SWEREF)
    assert data.images == []
    assert any("'facade.png' is not a readable PNG, JPEG or WebP image" in w for w in data.warnings)
    Image.open(FIXTURES / "facade.png").save(folder / "facade.png", format="GIF")
    data = read(folder / "house.obj", SWEREF)
    assert data.images == []
    assert any("facade.png (GIF, 8 x 8) skipped" in w for w in data.warnings)


def _rewrite_glb(tmp_path: Path, name: str, change: Callable[[dict], None]) -> Path:
    data = GLB.read_bytes()
    (jlen,) = struct.unpack_from("<I", data, 12)
    doc = json.loads(data[20 : 20 + jlen])
    change(doc)
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + data[20 + jlen :]
    folder = tmp_path / "invalid"  # left out of the session's validator run
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path


@pytest.mark.parametrize(
    ("name", "change", "code"),
    [
        ("view.glb", lambda d: d["bufferViews"][0].update(byteOffset=10**6), "invalid_mesh"),
        ("count.glb", lambda d: d["accessors"][0].update(count=10**6), "invalid_mesh"),
        (
            "uri.glb",
            lambda d: (
                d["buffers"].append({"uri": "http://example.org/x.bin", "byteLength": 4})
                or d["bufferViews"][0].update(buffer=1)
            ),
            "invalid_mesh",
        ),
    ],
    ids=["view-out-of-bounds", "accessor-count", "http-buffer"],
)
def test_glb_with_bad_views_or_uris_is_invalid(
    tmp_path: Path, name: str, change: Callable[[dict], None], code: str
) -> None:
    path = _rewrite_glb(tmp_path, name, change)
    with pytest.raises(InvalidMesh) as info:
        read(path, SWEREF)
    assert info.value.code == code
