"""Meshes end to end: placed within 1 cm of pyproj, valid tiles, attributes, chunks, CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from glbtools import Glb, load_tileset, root_transform
from pyproj import Transformer

from tiles import ConvertOptions, convert
from tiles.gltf_validator import validate_glbs
from tiles.readers import read
from tiles.validate import check_tileset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meshes"
OBJ, GLB, PLY = FIXTURES / "house.obj", FIXTURES / "towers.glb", FIXTURES / "terrain.ply"
#: Helsingborg in SWEREF 99 TM, and the same place in the local zone SWEREF 99 13 30.
ORIGIN_3006 = (361000.0, 6214000.0, 20.0)
_E, _N = Transformer.from_crs("EPSG:3006", "EPSG:3008", always_xy=True).transform(
    361000.0, 6214000.0
)
ORIGIN_3008 = (round(_E, 3), round(_N, 3), 20.0)


def obj_vertices(path: Path) -> dict[str, np.ndarray]:
    """Each OBJ object's vertices, read from the text independently of the reader."""
    verts: list[list[float]] = []
    used: dict[str, set[int]] = {}
    current = "default"
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "o":
            current = parts[1]
        elif parts[0] == "v":
            verts.append([float(v) for v in parts[1:4]])
        elif parts[0] == "f":
            used.setdefault(current, set()).update(int(p.split("/")[0]) - 1 for p in parts[1:])
    arr = np.array(verts)
    return {name: arr[sorted(idx)] for name, idx in used.items()}


def box(lo: list[float], hi: list[float]) -> np.ndarray:
    return np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )


#: The glb's boxes (y-up, see make_fixtures.py) as east, north, up offsets.
GLB_ZUP = {"tower": box([8, 3, 0], [12, 7, 12]), "kiosk": box([-1, -1, 0], [1, 1, 3])}
#: The same file read with --up z: its y is north, its z up.
GLB_AS_Z = {"tower": box([8, 0, -7], [12, 12, -3]), "kiosk": box([-1, 0, -1], [1, 3, 1])}


def placed(out: Path) -> tuple[dict[str, np.ndarray], list[Glb]]:
    tileset, glbs = load_tileset(out)
    m = root_transform(tileset)
    by_id: dict[str, list[np.ndarray]] = {}
    for glb in glbs:
        ecef = glb.ecef_positions(m)
        fid = glb.attribute("_FEATURE_ID_0")
        for row, oid in enumerate(glb.property_table(0)["id"]):
            by_id.setdefault(oid, []).append(ecef[fid == row])
    return {k: np.concatenate(v) for k, v in by_id.items()}, glbs


def check(
    out: Path, crs: str, origin: tuple[float, float, float], local: dict[str, np.ndarray]
) -> float:
    """Valid tiles; every known vertex within 1 cm of pyproj's ECEF. Returns the worst miss."""
    assert check_tileset(out / "tileset.json") == []
    for path, r in validate_glbs(sorted((out / "tiles").glob("*.glb"))).items():
        assert r.errors == 0, (path.name, r.messages[:5])
    mine, _ = placed(out)
    t = Transformer.from_crs(crs, "EPSG:4978", always_xy=True)
    worst = 0.0
    for oid, pts in local.items():
        src = pts + np.array(origin)
        want = np.column_stack(t.transform(src[:, 0], src[:, 1], src[:, 2]))
        d = np.linalg.norm(want[:, None, :] - mine[oid][None, :, :], axis=2).min(axis=1)
        worst = max(worst, float(d.max()))
    assert worst < 0.01, f"a vertex is {worst:.4f} m from where pyproj puts it"
    return worst


@pytest.mark.parametrize(
    ("crs", "origin"),
    [("EPSG:3006", ORIGIN_3006), ("EPSG:3008", ORIGIN_3008)],
    ids=["3006", "3008"],
)
def test_obj_with_origin_lands_within_1cm(tmp_path: Path, crs: str, origin: tuple) -> None:
    report = convert(OBJ, tmp_path / "out", ConvertOptions(crs=crs, origin=origin))
    assert report.crs == crs
    assert report.crs_from == "option"
    assert report.axis_order == "xy"
    assert report.feature_count == 2
    check(tmp_path / "out", crs, origin, obj_vertices(OBJ))
    # Helsingborg: about 12.7 E, 56.05 N
    w, s, e, n = report.extent
    assert 12.6 < w < e < 12.8
    assert 56.0 < s < n < 56.1


def test_obj_with_offset_file_lands_within_1cm(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    for name in ("house.obj", "house.mtl", "facade.png"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "house.offset.xyz").write_text(" ".join(str(v) for v in ORIGIN_3008) + "\n")
    report = convert(folder / "house.obj", tmp_path / "out", ConvertOptions(crs="EPSG:3008"))
    assert any("from house.offset.xyz" in w for w in report.warnings)
    check(tmp_path / "out", "EPSG:3008", ORIGIN_3008, obj_vertices(OBJ))


def test_glb_up_y_and_up_z_land_within_1cm(tmp_path: Path) -> None:
    y = ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006)  # y is glTF's default
    convert(GLB, tmp_path / "y", y)
    check(tmp_path / "y", "EPSG:3006", ORIGIN_3006, GLB_ZUP)
    z = ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006, up="z")
    convert(GLB, tmp_path / "z", z)
    check(tmp_path / "z", "EPSG:3006", ORIGIN_3006, GLB_AS_Z)
    # and an OBJ read as y-up: its z becomes south
    convert(OBJ, tmp_path / "objy", ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006, up="y"))
    swapped = {
        k: np.column_stack([v[:, 0], -v[:, 2], v[:, 1]]) for k, v in obj_vertices(OBJ).items()
    }
    check(tmp_path / "objy", "EPSG:3006", ORIGIN_3006, swapped)


def test_attributes_reach_the_property_table(tmp_path: Path) -> None:
    convert(GLB, tmp_path / "out", ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006))
    _, glbs = placed(tmp_path / "out")
    rows = {}
    for glb in glbs:
        table, names = glb.property_table(0), glb.names(0)
        for row, oid in enumerate(table["id"]):
            rows[oid] = {names[pid]: values[row] for pid, values in table.items()}
    assert rows["tower"]["type"] == "Mesh"
    assert rows["tower"]["name"] == "tower"
    assert rows["tower"]["materials"] == "brick"
    assert rows["tower"]["architect"] == "Ada"
    assert float(rows["tower"]["floors"]) == 4
    assert rows["kiosk"]["source"] == "towers.glb"


def test_ply_converts(tmp_path: Path) -> None:
    report = convert(PLY, tmp_path / "out", ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006))
    assert report.format == "PLY mesh"
    assert report.triangle_count == 8
    grid = np.array(
        [[x * 5.0, y * 5.0, 1.0 + 0.5 * x - 0.25 * y] for y in range(3) for x in range(3)]
    )
    check(tmp_path / "out", "EPSG:3006", ORIGIN_3006, {"terrain": grid})


# -- large meshes ---------------------------------------------------------------------------
def write_grid_obj(path: Path, n: int) -> int:
    """An n x n quad grid, 1 m cells, gently sloped: 2 n^2 triangles in one object."""
    lines = ["o terrain"]
    lines += [f"v {x} {y} {0.01 * x}" for y in range(n + 1) for x in range(n + 1)]
    for y in range(n):
        for x in range(n):
            a = y * (n + 1) + x + 1
            lines += [f"f {a} {a + 1} {a + n + 2}", f"f {a} {a + n + 2} {a + n + 1}"]
    path.write_text("\n".join(lines) + "\n")
    return 2 * n * n


def test_a_large_mesh_is_split_into_chunks_over_tiles(tmp_path: Path) -> None:
    path = tmp_path / "grid.obj"
    triangles = write_grid_obj(path, 120)
    opts = ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006, max_tile_bytes=200_000)
    data = read(path, opts)
    assert len(data.features) > 4
    assert data.object_count == 1
    assert sum(f.mesh.triangle_count for f in data.features) == triangles
    assert {f.parent_id for f in data.features} == {"terrain"}
    assert len({f.id for f in data.features}) == len(data.features)
    assert all(f.id.startswith("terrain#") for f in data.features)
    assert all(f.attributes["name"] == "terrain" for f in data.features)
    # chunks are spatial: their footprints barely overlap
    areas = [np.prod(np.ptp(f.mesh.positions[:, :2], axis=0)) for f in data.features]
    assert sum(areas) < 1.3 * 120 * 120
    report = convert(path, tmp_path / "out", opts)
    assert report.tile_count > 1
    assert report.bytes_max_tile < 400_000
    corners = np.array([[0, 0, 0], [120, 0, 1.2], [0, 120, 0], [120, 120, 1.2], [60, 60, 0.6]])
    mine, _ = placed(tmp_path / "out")
    allpts = {"all": corners}
    merged = np.concatenate(list(mine.values()))
    t = Transformer.from_crs("EPSG:3006", "EPSG:4978", always_xy=True)
    src = allpts["all"] + np.array(ORIGIN_3006)
    want = np.column_stack(t.transform(src[:, 0], src[:, 1], src[:, 2]))
    d = np.linalg.norm(want[:, None, :] - merged[None, :, :], axis=2).min(axis=1)
    assert d.max() < 0.01
    assert check_tileset(tmp_path / "out" / "tileset.json") == []


# -- CLI and upload -------------------------------------------------------------------------
def test_cli_convert_with_mesh_options(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TWIN_DATA_DIR"}
    args = [sys.executable, "-m", "twin", "convert", str(GLB), "--out", str(tmp_path / "out")]
    origin = [str(v) for v in ORIGIN_3006]
    run = subprocess.run(
        [*args, "--crs", "EPSG:3006", "--origin", *origin, "--up", "z"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    check(tmp_path / "out", "EPSG:3006", ORIGIN_3006, GLB_AS_Z)
    refused = subprocess.run(
        [*args[:-2], "--out", str(tmp_path / "out2")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert refused.returncode == 3
    assert "[crs_required]" in refused.stderr
    assert "towers.glb" in refused.stderr


def test_zipped_folder_upload_picks_the_obj_and_keeps_its_texture(tmp_path: Path) -> None:
    from twin.jobs.uploads import Limits, prepare

    archive = tmp_path / "job" / "house.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("house.obj", "house.mtl", "facade.png"):
            zf.write(FIXTURES / name, f"export/{name}")
        zf.writestr("export/house.offset.txt", "361000 6214000 20\n")
    source = prepare(archive, archive.parent, Limits(10**7, 100, 10**8, 200))
    assert source.name == "house.obj"
    data = read(source, ConvertOptions(crs="EPSG:3006"))
    assert [i.data for i in data.images] == [(FIXTURES / "facade.png").read_bytes()]
    shed = next(f for f in data.features if f.id == "shed")
    np.testing.assert_allclose(shed.mesh.positions.min(axis=0), [361020.0, 6214000.0, 20.0])


# -- textures end to end --------------------------------------------------------------------
def test_obj_texture_reaches_the_tile_the_right_way_up(tmp_path: Path) -> None:
    """The facade's lower-right triangle samples the texture's white (bottom-right)
    quadrant, its upper-left triangle the red (top-left) one: UVs and v flip survive."""
    import io

    from PIL import Image

    convert(OBJ, tmp_path / "out", ConvertOptions(crs="EPSG:3006", origin=ORIGIN_3006))
    _, glbs = placed(tmp_path / "out")
    (glb,) = glbs
    materials = glb.json["materials"]
    textured = [
        p
        for p in glb.json["meshes"][0]["primitives"]
        if "baseColorTexture" in materials[p["material"]]["pbrMetallicRoughness"]
    ]
    assert len(textured) == 1
    prim = textured[0]
    tex = materials[prim["material"]]["pbrMetallicRoughness"]["baseColorTexture"]["index"]
    image = glb.json["images"][glb.json["textures"][tex]["source"]]
    img = Image.open(io.BytesIO(glb.view(image["bufferView"]))).convert("RGB")
    pos = glb.accessor(prim["attributes"]["POSITION"]).astype(np.float64)
    uv = glb.accessor(prim["attributes"]["TEXCOORD_0"]).astype(np.float64)
    tris = glb.accessor(prim["indices"]).reshape(-1, 3)
    assert len(tris) == 2
    up = pos[tris][:, :, 1].mean(axis=1)  # glTF y is up
    samples = []
    for t in tris[np.argsort(up)]:
        u, v = uv[t].mean(axis=0)
        samples.append(img.getpixel((int(u * img.width), int(v * img.height))))
    assert samples == [(250, 250, 250), (220, 30, 30)]
