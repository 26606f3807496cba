"""Textured glb output: primitives per material, embedded images, atlases, fallbacks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from glbtools import Glb, load_tileset, root_transform
from PIL import Image
from pyproj import Transformer

from tiles import ConvertOptions, convert, readers
from tiles.gltf_validator import validate_glbs
from tiles.model import Material, TextureImage
from tiles.textures import Appearance, feature_costs, pack_tile, prepare

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cityjson" / "textured"
TEXTURED = FIXTURE / "textured.city.json"
PLAIN = Path(__file__).resolve().parent / "fixtures" / "cityjson" / "semantics_solid.city.json"
MAGENTA, GREEN = (255, 0, 255), (0, 200, 0)


def _convert(tmp_path: Path, **opts: Any) -> tuple[Any, Glb, np.ndarray]:
    report = convert(TEXTURED, tmp_path / "out", ConvertOptions(**opts))
    tileset, glbs = load_tileset(tmp_path / "out")
    assert len(glbs) == 1
    return report, glbs[0], root_transform(tileset)


def _decode(glb: Glb, texture: int) -> Image.Image:
    img = Image.open(io.BytesIO(glb.image(texture)))
    img.load()
    return img.convert("RGB")


def _sample(img: Image.Image, uv: np.ndarray) -> tuple[int, int, int]:
    """The texel at a glTF uv (origin top-left), repeating outside 0..1."""
    x = int((uv[0] % 1.0) * img.width) % img.width
    y = int((uv[1] % 1.0) * img.height) % img.height
    return img.getpixel((x, y))  # type: ignore[return-value]


def test_textured_glb_is_valid_and_embeds_decodable_images(tmp_path: Path) -> None:
    report, glb, _ = _convert(tmp_path)
    reports = validate_glbs([tmp_path / "out" / "tiles" / "0.glb"], max_issues=0)
    (result,) = reports.values()
    assert result.errors == 0, result.messages[:5]
    assert result.warnings == 0, result.messages[:5]
    assert report.appearance == {
        "themes": ["photo", "winter"],
        "themes_used": ["photo"],
        "materials": 7,
        "images": 4,
        "textures_embedded": 3,
        "missing_images": {"appearance/missing.jpg": 4},
        "atlases": 1,
        "cropped_textures": 0,  # the atlas's images are small; the stripes repeat
        "texture_bytes": report.appearance["texture_bytes"],
        "parent_texture_bytes": 0,  # one tile: no parent
    }
    doc = glb.json
    # checker and roof (uvs in 0..1) share an atlas; stripes (uvs up to 3) repeat alone.
    assert len(doc["images"]) == 2
    assert report.appearance["texture_bytes"] == sum(
        len(glb.view(i["bufferView"])) for i in doc["images"]
    )
    for i, image in enumerate(doc["images"]):
        assert image["mimeType"] in ("image/png", "image/jpeg")
        Image.open(io.BytesIO(glb.view(image["bufferView"]))).verify()
        assert i in [t["source"] for t in doc["textures"]]
    wraps = {(s["wrapS"], s["wrapT"]) for s in doc["samplers"]}
    assert wraps == {(33071, 33071), (10497, 10497)}  # atlas clamps, stripes repeat
    for mat in doc["materials"]:
        pbr = mat["pbrMetallicRoughness"]
        assert pbr["metallicFactor"] == 0.0
        assert "extensions" not in mat  # no KHR_materials_unlit
    assert "KHR_materials_unlit" not in doc.get("extensionsUsed", [])


def test_every_textured_triangle_samples_its_source_image(tmp_path: Path) -> None:
    """Map each glb vertex back to its source polygon (by position, within 1 cm): the
    texel at the glb uv has the colour of the source image at the source uv."""
    from readers.test_appearance_cityjson import source_rings

    _, glb, m = _convert(tmp_path)
    rings = source_rings(TEXTURED, "photo")
    to_ecef = Transformer.from_crs("EPSG:7415", "EPSG:4978", always_xy=True)
    sources = {
        name: Image.open(FIXTURE / name).convert("RGB")
        for name in {img for polys in rings.values() for _, _, img in polys}
        if (FIXTURE / name).exists()
    }
    polygons = []
    for polys in rings.values():
        for points, uvs, image in polys:
            ecef = np.column_stack(to_ecef.transform(*points.T))
            polygons.append((ecef, uvs, image))
    checked = 0
    for p, prim in enumerate(glb.primitives):
        material = glb.json["materials"][prim["material"]]
        tex = material["pbrMetallicRoughness"].get("baseColorTexture")
        if tex is None:
            continue
        img = _decode(glb, tex["index"])
        pos = glb.primitive_ecef(p, m)
        uv = glb.primitive_attribute(p, "TEXCOORD_0")
        for tri in glb.primitive_indices(p).reshape(-1, 3):
            match = None
            for ecef, uvs, image in polygons:
                d = np.linalg.norm(ecef[None, :, :] - pos[tri][:, None, :], axis=2)
                if (d.min(axis=1) < 0.01).all() and image in sources:
                    src_uv = uvs[d.argmin(axis=1)]
                    # the same triangle on a polygon of the same plane: uvs must agree
                    want = _sample_source(sources[image], src_uv.mean(axis=0))
                    if want is not None:
                        match = want
                        break
            assert match is not None, f"primitive {p}: triangle {tri} has no source polygon"
            got = _sample(img, uv[tri].mean(axis=0))
            assert np.abs(np.subtract(got, match)).max() <= 40, (p, tri, got, match)
            checked += 1
    assert checked == 2 * 4 + 2 + 2 + 8  # A's walls and roof; B's east and west walls


def _sample_source(img: Image.Image, uv: np.ndarray) -> tuple[int, int, int] | None:
    """The source texel at a CityJSON uv (origin bottom-left)."""
    return _sample(img, np.array([uv[0], 1.0 - uv[1]]))


def test_checker_colours_land_on_the_walls(tmp_path: Path) -> None:
    _, glb, _ = _convert(tmp_path)
    colours: set[tuple[int, int, int]] = set()
    for p, prim in enumerate(glb.primitives):
        tex = glb.json["materials"][prim["material"]]["pbrMetallicRoughness"].get(
            "baseColorTexture"
        )
        if tex is None:
            continue
        img = _decode(glb, tex["index"])
        uv = glb.primitive_attribute(p, "TEXCOORD_0")
        for tri in glb.primitive_indices(p).reshape(-1, 3):
            colours.add(_sample(img, uv[tri].mean(axis=0)))
    near = lambda c, want: max(abs(a - b) for a, b in zip(c, want, strict=True)) < 30  # noqa: E731
    assert any(near(c, MAGENTA) for c in colours)
    assert any(near(c, GREEN) for c in colours)


def test_missing_image_falls_back_to_material_colour_or_styling(tmp_path: Path) -> None:
    report, glb, _ = _convert(tmp_path)
    assert any(
        "'appearance/missing.jpg' not found" in w and "4 triangles" in w for w in report.warnings
    )
    factors = []
    styled = 0
    for prim in glb.primitives:
        mat = glb.json["materials"][prim["material"]]
        pbr = mat["pbrMetallicRoughness"]
        if "COLOR_0" in prim["attributes"]:
            styled += glb.accessor(prim["indices"]).size // 3
        elif "baseColorTexture" not in pbr:
            factors.append((mat.get("name"), pbr["baseColorFactor"], mat.get("alphaMode")))
    # B's roof has the missing image and brick: brick; its south wall has only the missing
    # image: styled, like both grounds (A's ground is brick by material).
    brick = [0.8, 0.2, 0.1]
    linear = [round(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4, 6) for c in brick]
    assert ("brick", [*linear, 1.0], None) in factors
    assert any(name == "glass" and alpha == "BLEND" for name, _, alpha in factors)
    assert styled == 2 + 2  # B's ground and south wall


def test_feature_ids_are_right_in_every_primitive(tmp_path: Path) -> None:
    _, glb, m = _convert(tmp_path)
    ids = glb.property_table(0)["id"]
    surfaces = glb.property_table(1)["surface"]
    assert len(glb.primitives) >= 5
    centre = {}
    for p, prim in enumerate(glb.primitives):
        ext = prim["extensions"]["EXT_mesh_features"]["featureIds"]
        assert [f["attribute"] for f in ext] == [0, 1]
        assert ext[0]["featureCount"] == len(ids)
        fid = glb.primitive_attribute(p, "_FEATURE_ID_0").astype(int)
        sid = glb.primitive_attribute(p, "_FEATURE_ID_1").astype(int)
        assert fid.max() < len(ids)
        assert sid.max() < len(surfaces)
        tris = glb.primitive_indices(p).reshape(-1, 3)
        assert (fid[tris] == fid[tris[:, :1]]).all()  # a triangle belongs to one object
        pos = glb.primitive_ecef(p, m)
        for f in np.unique(fid).tolist():
            centre.setdefault(ids[f], []).append(pos[fid == f])
    a, b = (np.concatenate(centre[k]).mean(axis=0) for k in ("A", "B"))
    assert 15 < np.linalg.norm(a - b) < 25  # B stands 20 m east of A


def test_small_max_texture_size_downscales_and_skips_the_atlas(tmp_path: Path) -> None:
    report, glb, _ = _convert(tmp_path, max_texture_size=8)
    assert report.appearance["atlases"] == 0  # no image fits in half of 8 px
    for image in glb.json["images"]:
        img = Image.open(io.BytesIO(glb.view(image["bufferView"])))
        assert max(img.size) <= 8


def _noise_image(width: int, height: int) -> Image.Image:
    """Every texel different enough to tell apart; translucent, so the tile keeps it as
    PNG (lossless) and texels can be compared exactly."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    pixels[:, :, 3] = 200
    return Image.fromarray(pixels, "RGBA")


def _appearance(img: Image.Image, wrap: str = "repeat") -> Appearance:
    png = io.BytesIO()
    img.save(png, "PNG")
    image = TextureImage("noise.png", data=png.getvalue())
    material = Material("m", image=0, wrap=wrap)
    return Appearance([material], [image], 1024, [True], [img.size], [False])


def _texel(img: Image.Image, uv: np.ndarray) -> tuple[int, int, int]:
    x = min(int(uv[0] * img.width), img.width - 1)
    y = min(int(uv[1] * img.height), img.height - 1)
    return img.getpixel((x, y))[:3]  # type: ignore[index,no-any-return]


def test_a_tile_embeds_only_the_part_of_an_image_its_triangles_use() -> None:
    """A chunk of a mesh (or a building of a shared atlas) uses a corner of the image:
    the tile gets that corner and its texture coordinates are moved into it, so every
    coordinate reads the texel it read in the whole image."""
    source = _noise_image(200, 100)
    app = _appearance(source)
    rng = np.random.default_rng(3)
    # A quarter of the image: u in 0.55..0.95, v (up) in 0.1..0.6.
    uvs = np.column_stack([rng.uniform(0.55, 0.95, 400), rng.uniform(0.1, 0.6, 400)])
    uvs = uvs.astype(np.float32)
    tex = pack_tile(app, {0: uvs})
    (data, mime) = tex.images[0]
    assert mime == "image/png"
    img = Image.open(io.BytesIO(data))
    # 80 x 50 texels used, plus 2 of margin on each side.
    assert img.size == (84, 54), img.size
    assert app.cropped == 1
    assert tex.alpha[0] is True
    assert tex.samplers[tex.textures[0]["sampler"]]["wrapS"] == 33071  # clamp
    moved = tex.uv(0, uvs)
    assert moved.min() >= 0.0 and moved.max() <= 1.0
    whole = np.column_stack([uvs[:, 0], 1.0 - uvs[:, 1]])  # glTF: v from the top
    same = sum(_texel(img, a) == _texel(source, b) for a, b in zip(moved, whole, strict=True))
    assert same >= 0.98 * len(uvs), same  # a coordinate on a texel edge may round across


def test_an_image_used_mostly_or_repeated_is_embedded_whole() -> None:
    source = _noise_image(64, 64)
    most = np.array([[0.05, 0.05], [0.95, 0.95], [0.05, 0.95]], dtype=np.float32)
    repeated = np.array([[0.1, 0.1], [0.4, 0.1], [2.5, 0.3]], dtype=np.float32)
    for uvs in (most, repeated):
        app = _appearance(source)
        tex = pack_tile(app, {0: uvs})
        img = Image.open(io.BytesIO(tex.images[0][0]))
        assert img.size == (64, 64)
        assert app.cropped == 0
        assert tex.transform[0] == (1.0, 1.0, 0.0, 0.0)
        assert tex.samplers[tex.textures[0]["sampler"]]["wrapS"] == 10497  # repeat kept


def test_untextured_source_keeps_one_styled_primitive(tmp_path: Path) -> None:
    report = convert(PLAIN, tmp_path / "out")
    _, (glb,) = load_tileset(tmp_path / "out")
    assert report.appearance == {}
    assert len(glb.primitives) == 1
    assert "images" not in glb.json
    assert "textures" not in glb.json
    assert set(glb.primitives[0]["attributes"]) == {
        "POSITION",
        "NORMAL",
        "COLOR_0",
        "_FEATURE_ID_0",
        "_FEATURE_ID_1",
    }


def test_texture_bytes_count_toward_the_tile_budget() -> None:
    data = readers.read(TEXTURED, ConvertOptions())
    app, _ = prepare(data, 2048)
    costs = feature_costs(data.features, app)
    assert (costs > 0).all()
    plain = readers.read(PLAIN, ConvertOptions())
    assert (feature_costs(plain.features, prepare(plain, 2048)[0]) == 0).all()


def test_tiny_tile_budget_splits_textured_objects(tmp_path: Path) -> None:
    report = convert(TEXTURED, tmp_path / "out", ConvertOptions(max_tile_bytes=1000))
    assert report.tile_count == 2
    tileset = json.loads((tmp_path / "out" / "tileset.json").read_text())
    assert tileset["root"]["children"]


@pytest.mark.shared_data
def test_rotterdam_missing_images_warn_and_style(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "cityjson-rotterdam-textured/rotterdam_subset.json"
    data = readers.read(source, ConvertOptions(crs="EPSG:7415"))
    kept = "appearances/0320_4_15.jpg"
    textured = sum(
        int(
            sum(
                1
                for m in f.mesh.materials
                if m >= 0 and data.images[data.materials[m].image].name == kept  # type: ignore[index]
            )
        )
        for f in data.features
        if f.mesh.materials is not None
    )
    report = convert(source, tmp_path / "out", ConvertOptions(crs="EPSG:7415"))
    app = report.appearance
    assert app["images"] == 74
    assert len(app["missing_images"]) == 73
    assert kept not in app["missing_images"]
    assert app["textures_embedded"] == 1
    missing = [w for w in report.warnings if "texture image" in w and "not found" in w]
    assert len(missing) == 73  # once per image, with its triangle count
    assert all("triangles drawn with" in w for w in missing)
    _, glbs = load_tileset(tmp_path / "out")
    in_texture = in_styled = 0
    for glb in glbs:
        for prim in glb.primitives:
            n = glb.accessor(prim["indices"]).size // 3
            if "TEXCOORD_0" in prim["attributes"]:
                in_texture += n
            else:
                assert "COLOR_0" in prim["attributes"]  # no material colours: styled
                in_styled += n
    assert in_texture == textured
    assert in_texture + in_styled == report.triangle_count
    assert sum(app["missing_images"].values()) <= in_styled


def test_cli_options_reach_the_conversion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from twin.cli import main

    out = tmp_path / "out"
    code = main(
        [
            "convert",
            str(TEXTURED),
            "--out",
            str(out),
            "--appearance-theme",
            "winter",
            "--max-texture-size",
            "64",
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "1 of 1 images (theme winter)" in printed.out
    report = json.loads((out / "report.json").read_text())
    assert report["appearance"]["themes_used"] == ["winter"]
    _, (glb,) = load_tileset(out)
    for image in glb.json["images"]:
        assert max(Image.open(io.BytesIO(glb.view(image["bufferView"]))).size) <= 64
    code = main(
        ["convert", str(TEXTURED), "--out", str(tmp_path / "bad"), "--max-texture-size", "0"]
    )
    assert code != 0
    assert "maximum texture size" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
