"""A folder of mesh tiles (a ContextCapture-style multi-tile export) as one layer.

The production is built in each test's temporary folder from the CC0 mesh fixtures:
``metadata.xml`` (SRS and SRSOrigin) and ``Data/Tile_*/Tile_*.obj`` with MTL and textures,
one tile shifted 60 m east and given a texture of another colour.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from glbtools import load_tileset
from PIL import Image

from tiles import ConvertOptions, convert
from tiles.errors import EmptyInput, InputError, UnsupportedFormat
from tiles.gltf_validator import validate_glbs
from tiles.readers import in_folder, mesh_set, read
from tiles.validate import check_tileset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meshes"
ORIGIN = (361000.0, 6214000.0, 20.0)
METADATA = (
    '<?xml version="1.0" encoding="utf-8"?>\n<ModelMetadata version="1">\n'
    "\t<SRS>EPSG:3006</SRS>\n\t<SRSOrigin>361000,6214000,20</SRSOrigin>\n</ModelMetadata>\n"
)


def _tile(production: Path, name: str, shift_x: float = 0.0, colour: str | None = None) -> Path:
    """One tile: house.obj renamed to the tile's name, its vertices moved by ``shift_x``."""
    folder = production / "Data" / name
    folder.mkdir(parents=True)
    lines = []
    for line in (FIXTURES / "house.obj").read_text().splitlines():
        if line.startswith("v "):
            x, y, z = (float(v) for v in line.split()[1:4])
            line = f"v {x + shift_x} {y} {z}"
        lines.append(line.replace("mtllib house.mtl", f"mtllib {name}.mtl"))
    (folder / f"{name}.obj").write_text("\n".join(lines) + "\n")
    mtl = (FIXTURES / "house.mtl").read_text()
    if colour is None:
        shutil.copy(FIXTURES / "facade.png", folder / "facade.png")
    else:
        Image.new("RGB", (8, 8), colour).save(folder / f"{name}.png")
        mtl = mtl.replace("map_Kd facade.png", f"map_Kd {name}.png")
    (folder / f"{name}.mtl").write_text(mtl)
    return folder / f"{name}.obj"


@pytest.fixture
def production(tmp_path: Path) -> Path:
    root = tmp_path / "Production_1"
    root.mkdir()
    (root / "metadata.xml").write_text(METADATA)
    _tile(root, "Tile_+000_+000")
    _tile(root, "Tile_+001_+000", shift_x=60.0, colour="#00ff00")
    return root


def test_every_tile_is_read_placed_and_named_by_its_path(production: Path) -> None:
    data = read(production, ConvertOptions())
    assert data.format == "OBJ mesh set (2 files)"
    assert data.crs_text == "EPSG:3006"
    ids = {f.id: f for f in data.features}
    assert set(ids) == {
        f"Data/{t}/{t}/{o}" for t in ("Tile_+000_+000", "Tile_+001_+000") for o in ("house", "shed")
    }
    a = ids["Data/Tile_+000_+000/Tile_+000_+000/shed"].mesh.positions
    b = ids["Data/Tile_+001_+000/Tile_+001_+000/shed"].mesh.positions
    np.testing.assert_allclose(a.min(axis=0), [ORIGIN[0] + 20.0, ORIGIN[1], ORIGIN[2]])
    np.testing.assert_allclose(b - a, np.tile([60.0, 0.0, 0.0], (len(a), 1)))
    source = ids["Data/Tile_+001_+000/Tile_+001_+000/house"].attributes["source"]
    assert source == "Data/Tile_+001_+000/Tile_+001_+000.obj"


def test_materials_and_images_are_renumbered_per_tile(production: Path) -> None:
    data = read(production, ConvertOptions())
    assert len(data.images) == 2

    def facade_pixel(feature_id: str) -> tuple[int, ...]:
        feature = next(f for f in data.features if f.id == feature_id)
        assert feature.mesh.materials is not None
        facade = {
            int(m) for m in np.unique(feature.mesh.materials) if data.materials[m].name == "facade"
        }
        (index,) = facade
        image = data.materials[index].image
        assert image is not None
        raw = data.images[image].data or data.images[image].path.read_bytes()  # type: ignore[union-attr]
        return tuple(Image.open(io.BytesIO(raw)).convert("RGB").getpixel((7, 7)))

    assert facade_pixel("Data/Tile_+001_+000/Tile_+001_+000/house") == (0, 255, 0)
    assert facade_pixel("Data/Tile_+000_+000/Tile_+000_+000/house") != (0, 255, 0)


def test_the_set_converts_to_one_valid_tileset(production: Path, tmp_path: Path) -> None:
    report = convert(production, tmp_path / "out")
    assert report.source == "Production_1"
    assert report.feature_count == 4
    assert report.object_count == 4
    out = tmp_path / "out"
    assert check_tileset(out / "tileset.json") == []
    for path, r in validate_glbs(sorted(out.rglob("*.glb"))).items():
        assert r.errors == 0, (path.name, r.messages[:5])
    doc, glbs = load_tileset(out)
    assert doc["asset"]["version"] == "1.1"
    ids = {i for glb in glbs for i in glb.property_table()["id"]}
    assert ids == {
        f"Data/{t}/{t}/{o}" for t in ("Tile_+000_+000", "Tile_+001_+000") for o in ("house", "shed")
    }
    assert sum(len(glb.primitives) for glb in glbs) >= 2  # textured and untextured parts


def test_a_folder_with_one_convertible_file_converts_that_file(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(FIXTURES / "towers.glb", folder / "towers.glb")
    (folder / "readme.txt").write_text("not a mesh\n")
    assert in_folder(folder) == folder / "towers.glb"


def test_mixed_kinds_and_mixed_crs_are_refused(production: Path) -> None:
    other = production / "extra.city.json"
    other.write_text(json.dumps({"type": "CityJSON", "version": "2.0", "CityObjects": {}}))
    with pytest.raises(UnsupportedFormat, match="different kinds"):
        in_folder(production)
    other.unlink()
    tile = production / "Data" / "Tile_+001_+000"
    (tile / "metadata.xml").write_text(METADATA.replace("EPSG:3006", "EPSG:3008"))
    with pytest.raises(InputError, match="same CRS"):
        read(production, ConvertOptions())


def test_links_hidden_files_and_empty_tiles(production: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(FIXTURES / "towers.glb", outside / "secret.glb")
    (production / "Data" / "link.glb").symlink_to(outside / "secret.glb")
    (production / "Data" / "linked").symlink_to(outside, target_is_directory=True)
    (production / "Data" / ".hidden.obj").write_text((FIXTURES / "house.obj").read_text())
    empty = production / "Data" / "Tile_+002_+000"
    empty.mkdir()
    (empty / "Tile_+002_+000.obj").write_text("# no faces\nv 0 0 0\nv 1 0 0\nv 0 1 0\nl 1 2\n")
    files = mesh_set.mesh_files(production)
    assert [f.relative_to(production).as_posix() for f in files] == [
        "Data/Tile_+000_+000/Tile_+000_+000.obj",
        "Data/Tile_+001_+000/Tile_+001_+000.obj",
        "Data/Tile_+002_+000/Tile_+002_+000.obj",
    ]
    data = read(production, ConvertOptions())
    assert len(data.features) == 4
    assert any("Tile_+002_+000.obj: no triangles, skipped" in w for w in data.warnings)


def test_a_folder_without_meshes(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(EmptyInput):
        in_folder(tmp_path)
    with pytest.raises(EmptyInput):
        mesh_set.read(tmp_path, ConvertOptions())


def test_a_zipped_set_is_chosen_as_one_source(production: Path, tmp_path: Path) -> None:
    from twin.jobs.uploads import Limits, prepare, source_digest

    archive = tmp_path / "job" / "production.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(production.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(production.parent).as_posix())
    limits = Limits(10**8, 1000, 10**8, 100)
    chosen = prepare(archive, archive.parent, limits)
    assert chosen.is_dir()
    assert chosen.name == "production"  # the report's source is the archive's name
    assert in_folder(chosen) == chosen  # the unpacked folder holds only the set
    data = read(chosen, ConvertOptions())
    assert len(data.features) == 4
    # The digest sees a change in any file of the folder.
    before = source_digest(production)
    png = production / "Data" / "Tile_+001_+000" / "Tile_+001_+000.png"
    Image.new("RGB", (8, 8), "#0000ff").save(png)
    assert source_digest(production) != before


def test_twin_import_takes_the_folder_and_sees_changes_in_any_file(
    production: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"

    def twin(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "twin", "--data-dir", str(data_dir), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)

    args = ("import", str(production), "--layer", "mesh", "--if-changed")
    first = twin(*args)
    assert first.returncode == 0, first.stderr
    assert "4 objects" in first.stdout
    assert "up to date" in twin(*args).stdout
    png = production / "Data" / "Tile_+001_+000" / "Tile_+001_+000.png"
    Image.new("RGB", (8, 8), "#0000ff").save(png)
    again = twin(*args)
    assert again.returncode == 0, again.stderr
    assert "up to date" not in again.stdout
    layers = twin("layers")
    assert "Production_1" in layers.stdout
    assert "2 version(s)" in layers.stdout
