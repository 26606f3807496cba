"""Bad point clouds: a clear error with a stable code, nothing written, an existing
tileset left exactly as it was."""

from __future__ import annotations

import struct
from pathlib import Path

import laspy
import numpy as np
import pytest
from points_tools import synthetic, write_las, write_xyz

from tiles import ConvertOptions, convert, readers
from tiles.errors import CRSMissing, EmptyInput, InputError, NonFiniteCoordinate, TilesError
from tiles.readers import points

HELSINGBORG = (356_750.0, 6_214_030.0, 20.0)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".work-" in p.name)


@pytest.fixture
def good_las(tmp_path: Path) -> Path:
    return write_las(tmp_path / "good.las", synthetic(*HELSINGBORG, side=60), "EPSG:3006")


def test_truncated_las_is_refused_and_the_published_tileset_kept(
    tmp_path: Path, good_las: Path
) -> None:
    out = tmp_path / "out"
    convert(good_las, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    cut = tmp_path / "cut.las"
    cut.write_bytes(good_las.read_bytes()[:30_000])
    with pytest.raises(InputError, match="truncated") as caught:
        convert(cut, out)
    assert caught.value.code == "invalid_input"
    assert caught.value.source == "cut.las"
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert _leftovers(tmp_path) == []


def test_truncated_laz(tmp_path: Path) -> None:
    laz = write_las(tmp_path / "a.laz", synthetic(*HELSINGBORG, side=150), "EPSG:3006")
    cut = tmp_path / "cut.laz"
    data = laz.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match="truncated or corrupt"):
        convert(cut, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []


def test_header_claiming_more_points_than_the_file_has(tmp_path: Path, good_las: Path) -> None:
    data = bytearray(good_las.read_bytes())
    # LAS 1.2: the legacy point count is the uint32 at byte 107.
    (count,) = struct.unpack_from("<I", data, 107)
    struct.pack_into("<I", data, 107, count * 3)
    liar = tmp_path / "liar.las"
    liar.write_bytes(bytes(data))
    with pytest.raises(InputError, match=f"{count * 3:,} points"):
        convert(liar, tmp_path / "out")


def test_las_without_crs_needs_crs_option(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG, side=20)
    src = write_las(tmp_path / "nocrs.las", cloud, None)
    with pytest.raises(CRSMissing, match="--crs EPSG:") as caught:
        convert(src, tmp_path / "out")
    assert caught.value.code == "crs_missing"
    assert not (tmp_path / "out").exists()
    report = convert(src, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert report.points["crs_record"] == "given"


def test_zero_points(tmp_path: Path) -> None:
    header = laspy.LasHeader(point_format=3, version="1.2")
    empty = laspy.LasData(header)
    empty.write(tmp_path / "empty.las")
    with pytest.raises(EmptyInput):
        convert(tmp_path / "empty.las", tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert not (tmp_path / "out").exists()


def test_xyz_with_nan_and_wrong_columns(tmp_path: Path) -> None:
    nan = tmp_path / "nan.xyz"
    nan.write_text("356750 6214030 20\n356751 6214031 nan\n", encoding="ascii")
    with pytest.raises(NonFiniteCoordinate):
        convert(nan, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    five = tmp_path / "five.xyz"
    five.write_text("1 2 3 4 5\n6 7 8 9 10\n", encoding="ascii")
    with pytest.raises(InputError, match="this one has 5"):
        convert(five, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    ragged = write_xyz(tmp_path / "ragged.xyz", synthetic(*HELSINGBORG, side=5))
    ragged.write_text(ragged.read_text() + "1 2 3\n", encoding="ascii")
    with pytest.raises(InputError, match="not 6 numbers"):
        convert(ragged, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert _leftovers(tmp_path) == []


def test_detection_is_by_content(tmp_path: Path, good_las: Path) -> None:
    renamed = tmp_path / "scan.json"
    renamed.write_bytes(good_las.read_bytes())
    assert readers.sniff(renamed) is points
    mesh = b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
    mesh += b"property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
    mesh += b"end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    assert not points.sniff(tmp_path / "m.ply", mesh)  # a PLY mesh is not a point cloud
    cloud = mesh.replace(b"element face 1", b"element face 0").replace(b"3 0 1 2\n", b"")
    assert points.sniff(tmp_path / "c.ply", cloud)
    assert not points.sniff(tmp_path / "x.obj", b"v 1 2 3\nv 4 5 6\nf 1 2 3\n")
    assert not points.sniff(tmp_path / "x.json", b'{"type": "CityJSON"}')


def test_outlier_band_is_robust() -> None:
    from tiles.points import outlier_limits

    rng = np.random.default_rng(1)
    z = np.concatenate([rng.uniform(10, 40, 100_000), [700.0, -300.0]])
    limits = outlier_limits(z)
    assert limits.robust[0] == pytest.approx(10, abs=0.2)
    assert limits.robust[1] == pytest.approx(40, abs=0.2)
    assert -300 < limits.low < 10
    assert 40 < limits.high < 700
    flat = outlier_limits(np.full(1000, 5.0))
    assert (flat.low, flat.high) == (-5.0, 15.0)  # at least 10 m either side


def test_errors_are_tiles_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.las"
    bad.write_bytes(b"LASF" + b"\0" * 50)
    with pytest.raises(TilesError) as caught:
        convert(bad, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert "bad.las" in caught.value.one_line()
