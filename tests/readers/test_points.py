"""Point clouds end to end: LAS, LAZ, XYZ, PLY in, a ``pnts`` tileset out that passes the
structural checks, keeps colours, classification and intensity, and puts every point
within 1 cm of pyproj's answer (SWEREF 99 TM, US survey feet and the real Lyon lidar)."""

from __future__ import annotations

import json
from pathlib import Path

import laspy
import numpy as np
import pytest
from points_tools import (
    expected_ecef,
    nearest,
    synthetic,
    tileset_points,
    write_las,
    write_ply,
    write_xyz,
)
from pyproj import Transformer

from tiles import ConvertOptions, convert
from tiles.errors import CRSOutOfArea
from tiles.validate import check_tileset

LYON = "las-lyon-lidar2018"
US_FOOT = 1200 / 3937
HELSINGBORG = (356_750.0, 6_214_030.0, 20.0)  # SWEREF 99 TM easting, northing, RH 2000-ish
MANHATTAN_FT = (992_550.0, 223_450.0, 100.0)  # EPSG:2263, US survey feet


def _lonlat(report_extent: list[float]) -> tuple[float, float]:
    return (report_extent[0] + report_extent[2]) / 2, (report_extent[1] + report_extent[3]) / 2


def test_sweref_las_lands_in_helsingborg_not_on_the_equator(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG)
    src = write_las(tmp_path / "hbg.las", cloud, "EPSG:3006")
    out = tmp_path / "out"
    report = convert(src, out)
    assert check_tileset(out / "tileset.json") == []
    assert report.format == "LAS 1.2"
    assert (report.crs, report.crs_from, report.points["crs_record"]) == (
        "EPSG:3006",
        "file",
        "GeoKeys",
    )
    assert report.axis_order == "xy"  # LAS X is the easting, whatever the CRS's axis order
    lon, lat = _lonlat(report.extent)
    assert abs(lon - 12.70) < 0.01
    assert abs(lat - 56.05) < 0.01
    got = tileset_points(out)
    assert got.leaf_count >= len(cloud.xyz)
    worst = nearest(expected_ecef("EPSG:3006", cloud.xyz), got.ecef).max()
    assert worst < 0.01, worst
    # Attributes survive: classification and intensity in the batch table, 8-bit colours.
    assert set(got.batch) == {"classification", "intensity"}
    assert set(np.unique(got.batch["classification"])) == {2, 5}
    assert set(np.unique(got.batch["intensity"])) <= set(range(len(cloud.xyz)))
    assert got.batch["intensity"].max() > len(cloud.xyz) * 0.9
    assert set(map(tuple, got.rgb)) <= set(map(tuple, (cloud.rgb // 256).astype(np.uint8)))
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["point_count"] == report.point_count == len(cloud.xyz)
    assert saved["points"]["timings"].keys() == {"scan", "place", "tile"}


def test_us_feet_crs_from_a_wkt_record(tmp_path: Path) -> None:
    cloud = synthetic(*MANHATTAN_FT, spacing=1.5)
    src = write_las(tmp_path / "nyc.las", cloud, "EPSG:2263", point_format=7, version="1.4")
    out = tmp_path / "out"
    report = convert(src, out)
    assert check_tileset(out / "tileset.json") == []
    assert report.points["crs_record"] == "WKT"
    assert report.crs == "EPSG:2263"
    assert "US survey foot" in report.units
    # z in feet became metres: 100 ft is 30.48 m.
    z_ft = cloud.xyz[:, 2]
    assert report.height_range[0] == pytest.approx(z_ft.min() * US_FOOT, abs=0.002)
    assert report.points["z_range"][1] == pytest.approx(z_ft.max() * US_FOOT, abs=0.002)
    lon, lat = _lonlat(report.extent)
    assert abs(lon + 73.97) < 0.01
    assert abs(lat - 40.78) < 0.01
    worst = nearest(expected_ecef("EPSG:2263", cloud.xyz, US_FOOT), tileset_points(out).ecef)
    assert worst.max() < 0.01, worst.max()


def test_vertical_geokeys(tmp_path: Path) -> None:
    """laspy ignores the vertical GeoKeys; twin reads the vertical CRS and its unit."""
    cloud = synthetic(*HELSINGBORG, side=20)
    rh2000 = write_las(tmp_path / "rh.las", cloud, "EPSG:3006", geokeys={4096: 5613})
    report = convert(rh2000, tmp_path / "rh")
    assert report.crs == "EPSG:5845"  # SWEREF 99 TM + RH 2000, as EPSG names the pair
    assert report.points["crs_record"] == "GeoKeys"
    assert "5613" in report.height_note  # a geoid if installed, else said it is not
    if report.height_method == "as-ellipsoidal":
        assert "not installed" in report.height_note or "no geoid" in report.height_note
    feet = write_las(tmp_path / "ft.las", cloud, "EPSG:3006", geokeys={4099: 9002})
    report = convert(feet, tmp_path / "ft")
    assert report.points["z_range"][0] == pytest.approx(cloud.xyz[:, 2].min() * 0.3048, abs=0.002)
    got = tileset_points(tmp_path / "ft")
    xyz_m = cloud.xyz * [1, 1, 0.3048]
    assert nearest(expected_ecef("EPSG:3006", xyz_m), got.ecef).max() < 0.01


def test_8_bit_colours_in_16_bit_fields_are_scaled(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG, side=20)
    cloud.rgb = cloud.rgb // 257  # what some exporters write: 0-255 in LAS's 16-bit fields
    report = convert(write_las(tmp_path / "dark.las", cloud, "EPSG:3006"), tmp_path / "out")
    assert report.points["colour"] == "8-bit values in 16-bit fields, scaled"
    got = tileset_points(tmp_path / "out")
    assert got.rgb.max() == cloud.rgb.max() == 116  # not black (116 // 256 would be 0)
    assert set(map(tuple, got.rgb)) <= set(map(tuple, cloud.rgb.astype(np.uint8)))


def test_laz_through_laszip(tmp_path: Path) -> None:
    assert laspy.LazBackend.Laszip.is_available()
    cloud = synthetic(*HELSINGBORG, side=60)
    src = write_las(tmp_path / "hbg.laz", cloud, "EPSG:3006")
    assert src.read_bytes()[:4] == b"LASF"
    report = convert(src, tmp_path / "out")
    assert report.format == "LAZ 1.2"
    assert report.point_count == len(cloud.xyz)
    got = tileset_points(tmp_path / "out")
    assert nearest(expected_ecef("EPSG:3006", cloud.xyz[::7]), got.ecef).max() < 0.01


def test_xyz_text_with_colours_needs_and_takes_crs(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG, side=30)
    src = write_xyz(tmp_path / "scan.xyz", cloud)
    report = convert(src, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert (report.format, report.crs_from, report.points["crs_record"]) == (
        "XYZ",
        "option",
        "given",
    )
    assert report.axis_order == "xy"
    assert "outside the area" in report.axis_note  # northing-first tried, then refused
    got = tileset_points(tmp_path / "out")
    assert nearest(expected_ecef("EPSG:3006", cloud.xyz), got.ecef).max() < 0.01
    assert set(map(tuple, got.rgb)) <= set(map(tuple, (cloud.rgb // 257).astype(np.uint8)))
    assert got.batch == {}


def test_ply_point_cloud(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG, side=30)
    src = write_ply(tmp_path / "scan.ply", cloud)
    report = convert(src, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert report.format == "PLY"
    assert report.point_count == len(cloud.xyz)
    got = tileset_points(tmp_path / "out")
    assert nearest(expected_ecef("EPSG:3006", cloud.xyz), got.ecef).max() < 0.01
    assert set(np.unique(got.batch["classification"])) == {2, 5}


def test_crs_option_overrides_a_wrong_file_crs(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG, side=20)
    src = write_las(tmp_path / "x.las", cloud, "EPSG:3008")  # a local zone: wrong here
    with pytest.raises(CRSOutOfArea, match="EPSG:3008"):
        convert(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    report = convert(src, tmp_path / "out", ConvertOptions(crs="EPSG:3006"))
    assert (report.crs, report.points["crs_record"]) == ("EPSG:3006", "given")
    got = tileset_points(tmp_path / "out")
    assert nearest(expected_ecef("EPSG:3006", cloud.xyz[::5]), got.ecef).max() < 0.01


def test_ground_at_ellipsoid(tmp_path: Path) -> None:
    cloud = synthetic(*HELSINGBORG, side=20)
    src = write_las(tmp_path / "x.las", cloud, "EPSG:3006")
    report = convert(src, tmp_path / "out", ConvertOptions(ground_at_ellipsoid=True))
    assert report.height_range[0] == pytest.approx(0.0, abs=0.002)
    assert report.height_shift == pytest.approx(-cloud.xyz[:, 2].min(), abs=0.002)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "outliers"),
    [("ExampleDataDenseVegetation.las", 0), ("ExampleDataIsolatedTrees.las", 1)],
)
def test_lyon_lidar(shared_data: Path, tmp_path: Path, name: str, outliers: int) -> None:
    src = shared_data / LYON / name
    las = laspy.read(src)
    xyz = np.column_stack([las.x, las.y, las.z])
    out = tmp_path / "out"
    report = convert(src, out)
    assert check_tileset(out / "tileset.json") == []
    assert (report.crs, report.points["crs_record"], report.format) == (
        "EPSG:3946",
        "GeoKeys",
        "LAS 1.2",
    )
    assert report.height_method == "as-ellipsoidal"  # no vertical GeoKey: said so
    assert report.point_count == len(xyz)
    assert report.points["z_range"] == [round(xyz[:, 2].min(), 3), round(xyz[:, 2].max(), 3)]
    assert report.points["outliers_found"] == outliers
    assert any("--drop-outliers" in w for w in report.warnings) == bool(outliers)
    got = tileset_points(out)
    assert got.leaf_count >= len(xyz)
    sample = xyz[np.random.default_rng(4).choice(len(xyz), 80, replace=False)]
    worst = nearest(expected_ecef("EPSG:3946", sample), got.ecef).max()
    assert worst < 0.01, worst
    assert set(np.unique(got.batch["classification"])) == set(np.unique(las.classification))
    lon, lat = Transformer.from_crs("EPSG:3946", "EPSG:4326", always_xy=True).transform(
        xyz[:, 0].mean(), xyz[:, 1].mean()
    )
    assert abs(_lonlat(report.extent)[0] - lon) < 0.001
    assert abs(_lonlat(report.extent)[1] - lat) < 0.001


@pytest.mark.shared_data
def test_lyon_drop_outliers(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / LYON / "ExampleDataIsolatedTrees.las"
    report = convert(src, tmp_path / "out", ConvertOptions(drop_outliers=True))
    total = report.points["source_points"]
    assert report.points["outliers_dropped"] == 1
    assert report.point_count == total - 1
    assert report.height_range[1] < 250  # the 700 m echo is gone
    assert not any("--drop-outliers" in w for w in report.warnings)
    got = tileset_points(tmp_path / "out")
    assert got.leaf_count >= total - 1
