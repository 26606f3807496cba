"""Point clouds (LAS, LAZ, XYZ, PLY) to 3D Tiles ``pnts`` through py3dtiles' point tiler.

py3dtiles builds the octree and writes the tiles; the placement is twin's own
(:mod:`tiles.georef`): the CRS from ``--crs``, else the file's WKT or GeoKeys record,
axis order and units from the CRS, heights by the height policy. Points are placed in a
local east-north-up frame and written to a temporary LAS (1 mm resolution) that py3dtiles
tiles without any CRS; the tileset's root transform then takes that frame to ECEF. So
py3dtiles' own axis-order trap (SWEREF 99 TM on the equator) cannot happen, and its
octree is aligned with the ground.

Output is 3D Tiles 1.0 ``pnts`` (positions, RGB, and classification and intensity in
the batch table): py3dtiles' 1.1 glb writes ``COLOR_0`` the glTF validator rejects.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import georef
from .errors import CRSMissing, EmptyInput
from .readers.points import PointSource, open_points

if TYPE_CHECKING:
    from .convert import Report
    from .options import ConvertOptions

SAMPLE_MAX = 2_000_000  # heights kept for the robust range
ROBUST_PERCENTILES = (0.1, 99.9)
MIN_MARGIN_M = 10.0
ENU_SCALE = 0.001  # the temporary LAS stores the local frame in millimetres


@dataclass
class Scan:
    """A first pass over the points: count, bounds and a sample of heights (metres)."""

    count: int = 0
    lo: NDArray[np.float64] = field(default_factory=lambda: np.full(3, np.inf))
    hi: NDArray[np.float64] = field(default_factory=lambda: np.full(3, -np.inf))
    z_sample: list[NDArray[np.float64]] = field(default_factory=list)
    rgb_max: int = 0


@dataclass(frozen=True)
class Outliers:
    """Heights outside ``[low, high]`` are outliers (see :func:`outlier_limits`)."""

    robust: tuple[float, float]
    low: float
    high: float


def outlier_limits(z: NDArray[np.float64]) -> Outliers:
    """The 0.1-99.9 % height band, widened on each side by its own span (at least 10 m).

    A lidar tile of city and trees spans some tens of metres; a bird or a multipath echo
    hundreds of metres above it falls far outside, a tall building inside.
    """
    q_lo, q_hi = (float(v) for v in np.percentile(z, ROBUST_PERCENTILES))
    margin = max(q_hi - q_lo, MIN_MARGIN_M)
    return Outliers((q_lo, q_hi), q_lo - margin, q_hi + margin)


@dataclass
class Plan:
    """What is decided before any point is written (from the header and a first pass)."""

    crs: Any
    crs_from: str  # "option" or "file"
    policy: georef.HeightPolicy
    z_pre: float  # on source z before the height policy (GeoKeys' own vertical unit)
    scan: Scan
    limits: Outliers
    outliers: int  # found in the sample, scaled to the whole cloud when it was thinned
    axes: georef.AxisDecision
    frame: georef.LocalFrame
    shift: float  # metres added to every height (ground_at_ellipsoid)
    colour_scale: int  # 257 when a LAS holds 8-bit values in its 16-bit colour fields
    drop: tuple[float, float] | None  # the height band kept, with drop_outliers


def plan(src: PointSource, options: ConvertOptions) -> Plan:
    """CRS, units and heights, a first pass (bounds, heights), axis order and frame."""
    crs_text, crs_from = (options.crs, "option") if options.crs else (src.crs_text, "file")
    if not crs_text:
        raise CRSMissing(
            "the point cloud declares no CRS (no WKT or GeoKeys record in a LAS/LAZ file; "
            "XYZ and PLY have none): pass one with --crs EPSG:<code>",
            source=src.path.name,
        )
    crs = georef.parse_crs(crs_text)
    policy = georef.height_policy(crs)
    z_pre = _vertical_unit_fix(src, crs, policy)
    scan = _scan(src, z_pre)
    if scan.count == 0:
        raise EmptyInput("the point cloud has no points", source=src.path.name)
    z_metres = np.concatenate(scan.z_sample) * policy.unit_factor
    scan.z_sample.clear()
    limits = outlier_limits(z_metres)
    flagged = int(((z_metres < limits.low) | (z_metres > limits.high)).sum())
    outliers = (
        flagged if z_metres.size == scan.count else round(flagged * scan.count / z_metres.size)
    )
    del z_metres
    lo, hi = scan.lo.copy(), scan.hi.copy()
    if options.drop_outliers:
        lo[2] = max(lo[2], limits.low / policy.unit_factor)
    preferred = "xy" if src.format.startswith(("LAS", "LAZ")) else None  # LAS: X is easting
    axes = georef.choose_axis_order(
        crs, np.array([lo, hi]), options.axis_order, src.path.name, preferred=preferred
    )
    corners = georef.to_geodetic(crs, _corners(lo, hi), axes.order)
    lowest = float(corners[:, 2].min())
    return Plan(
        crs=crs,
        crs_from=crs_from,
        policy=policy,
        z_pre=z_pre,
        scan=scan,
        limits=limits,
        outliers=outliers,
        axes=axes,
        frame=georef.LocalFrame(float(corners[:, 0].mean()), float(corners[:, 1].mean()), lowest),
        shift=-lowest if options.ground_at_ellipsoid else 0.0,
        colour_scale=257 if 0 < scan.rgb_max <= 255 else 1,
        drop=(limits.low, limits.high) if options.drop_outliers else None,
    )


def convert_points(source: Path, out_dir: Path, options: ConvertOptions, started: float) -> Report:
    """Tile the point cloud ``source`` into ``out_dir`` (staged, then swapped in)."""
    from .convert import finish

    src = open_points(source)
    t0 = time.perf_counter()
    decided = plan(src, options)
    t1 = time.perf_counter()
    staging = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    work = out_dir.parent / f".{out_dir.name}.work-{uuid.uuid4().hex[:12]}"
    try:
        work.mkdir(parents=True)
        placed = _write_enu(src, decided, work / "enu.las")
        if placed.count == 0:
            raise EmptyInput("no point is left once outliers are dropped", source=source.name)
        t2 = time.perf_counter()
        extra = [
            name
            for name, has in (
                ("classification", src.has_classification),
                ("intensity", src.has_intensity),
            )
            if has
        ]
        _tile(work / "enu.las", staging, src.has_rgb, extra)
        shutil.rmtree(work, ignore_errors=True)
        sizes = _finish_tileset(staging, decided.frame)
        timings = {"scan": t1 - t0, "place": t2 - t1, "tile": time.perf_counter() - t2}
        report = _report(src, decided, placed, sizes, extra, timings)
        finish(report, started, staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def _report(
    src: PointSource,
    p: Plan,
    placed: Placed,
    sizes: list[int],
    extra: list[str],
    timings: dict[str, float],
) -> Report:
    from .convert import Report

    factor = p.policy.unit_factor
    z_range = [round(float(p.scan.lo[2] * factor), 3), round(float(p.scan.hi[2] * factor), 3)]
    warnings = list(src.notes)
    if "outside the area" in p.axes.note:
        warnings.append(p.axes.note)
    if p.policy.method == "as-ellipsoidal":
        warnings.append(p.policy.note)
    if p.outliers and p.drop is None:
        warnings.append(
            f"{_points(p.outliers)} outside the plausible height band "
            f"{p.limits.low:.2f}..{p.limits.high:.2f} m (z range {z_range[0]:.2f}.."
            f"{z_range[1]:.2f} m): pass --drop-outliers to leave them out"
        )
    colour = "none"
    if src.has_rgb:
        colour = "16-bit" if p.colour_scale == 1 else "8-bit values in 16-bit fields, scaled"
    return Report(
        source=src.path.name,
        format=src.format,
        crs=georef.crs_label(p.crs),
        crs_from=p.crs_from,
        axis_order=p.axes.order,
        axis_note=p.axes.note,
        height_method=p.policy.method,
        height_note=p.policy.note,
        feature_count=0,
        object_count=0,
        triangle_count=0,
        types={"points": placed.count},
        lods={},
        tile_count=len(sizes),
        bytes_total=sum(sizes),
        bytes_max_tile=max(sizes),
        extent=[round(v, 7) for v in placed.extent()],
        height_range=[round(placed.h_lo, 3), round(placed.h_hi, 3)],
        origin=[round(p.frame.lon, 9), round(p.frame.lat, 9), round(p.frame.height, 3)],
        properties=[{"id": n, "name": n, "type": "INT32"} for n in extra],
        warnings=warnings,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        units=p.policy.units,
        height_shift=round(p.shift, 3),
        point_count=placed.count,
        points={
            "crs_record": "given" if p.crs_from == "option" else src.crs_record,
            "source_points": p.scan.count,
            "colour": colour,
            "attributes": extra,
            "z_range": z_range,
            "z_robust_range": [round(p.limits.robust[0], 3), round(p.limits.robust[1], 3)],
            "outlier_band": [round(p.limits.low, 3), round(p.limits.high, 3)],
            "outliers_found": p.outliers,
            "outliers_dropped": placed.dropped,
            "timings": {k: round(v, 3) for k, v in timings.items()},
        },
    )


def _points(n: int) -> str:
    return "1 point lies" if n == 1 else f"{n:,} points lie"


def _vertical_unit_fix(src: PointSource, crs: Any, policy: georef.HeightPolicy) -> float:
    """A factor on z when the GeoKeys' vertical unit differs from the unit the CRS implies."""
    if src.vertical_unit_m is None or crs.is_compound or policy.method == "geoid":
        return 1.0
    return src.vertical_unit_m / policy.unit_factor


def _scan(src: PointSource, z_pre: float) -> Scan:
    scan = Scan()
    stride = max(1, src.point_count // SAMPLE_MAX) if src.point_count > 0 else 1
    sampled = 0
    for chunk in src.chunks():
        xyz = chunk.xyz
        if xyz.shape[0] == 0:
            continue
        scan.count += xyz.shape[0]
        scan.lo = np.minimum(scan.lo, xyz.min(axis=0))
        scan.hi = np.maximum(scan.hi, xyz.max(axis=0))
        scan.z_sample.append(xyz[::stride, 2] * z_pre)
        if chunk.rgb is not None:
            scan.rgb_max = max(scan.rgb_max, int(chunk.rgb.max(initial=0)))
        sampled += scan.z_sample[-1].size
        if sampled > 2 * SAMPLE_MAX:  # unknown count (XYZ): thin what was kept
            scan.z_sample = [np.concatenate(scan.z_sample)[::2]]
            sampled = scan.z_sample[0].size
            stride *= 2
    scan.lo[2] *= z_pre
    scan.hi[2] *= z_pre
    return scan


def _corners(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array(
        [[x, y, lo[2]] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])]
        + [[(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]]]
    )


@dataclass
class Placed:
    count: int = 0
    dropped: int = 0
    lon: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    lat: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    h_lo: float = np.inf
    h_hi: float = -np.inf

    def extent(self) -> list[float]:
        return [self.lon[0], self.lat[0], self.lon[1], self.lat[1]]


def _write_enu(src: PointSource, p: Plan, path: Path) -> Placed:
    """Stream the points through georef into a LAS in the local frame (millimetres)."""
    import laspy

    header = laspy.LasHeader(point_format=7 if src.has_rgb else 6, version="1.4")
    header.scales = np.array([ENU_SCALE] * 3)
    header.offsets = np.zeros(3)
    placed = Placed()
    with laspy.open(path, mode="w", header=header) as writer:
        for chunk in src.chunks():
            xyz = chunk.xyz
            xyz[:, 2] *= p.z_pre
            keep = None
            if p.drop is not None:
                z = xyz[:, 2] * p.policy.unit_factor
                keep = (z >= p.drop[0]) & (z <= p.drop[1])
                placed.dropped += int((~keep).sum())
                xyz = xyz[keep]
            if xyz.shape[0] == 0:
                continue
            llh = georef.to_geodetic(p.crs, xyz, p.axes.order)
            llh[:, 2] += p.shift
            placed.lon = [min(placed.lon[0], llh[:, 0].min()), max(placed.lon[1], llh[:, 0].max())]
            placed.lat = [min(placed.lat[0], llh[:, 1].min()), max(placed.lat[1], llh[:, 1].max())]
            placed.h_lo = min(placed.h_lo, float(llh[:, 2].min()))
            placed.h_hi = max(placed.h_hi, float(llh[:, 2].max()))
            enu = p.frame.ecef_to_enu(georef.geodetic_to_ecef(llh))
            del llh
            record = laspy.ScaleAwarePointRecord.zeros(enu.shape[0], header=header)
            record.x, record.y, record.z = enu[:, 0], enu[:, 1], enu[:, 2]
            for name in ("classification", "intensity"):
                values = getattr(chunk, name)
                if values is not None:
                    record[name] = values if keep is None else values[keep]
            if chunk.rgb is not None and src.has_rgb:
                rgb = chunk.rgb if keep is None else chunk.rgb[keep]
                if p.colour_scale != 1:
                    rgb = (rgb.astype(np.uint32) * p.colour_scale).clip(0, 65535).astype(np.uint16)
                record.red, record.green, record.blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
            writer.write_points(record)
            placed.count += enu.shape[0]
    return placed


def _tile(enu_las: Path, staging: Path, rgb: bool, extra: list[str]) -> None:
    """py3dtiles' point tiler on the local-frame LAS (no CRS: it keeps the coordinates)."""
    from py3dtiles.convert import convert as py3dtiles_convert

    py3dtiles_convert(
        enu_las,
        outfolder=staging,
        overwrite=False,
        jobs=min(2, os.cpu_count() or 1),
        rgb=rgb,
        extra_fields=extra,
        use_process_pool=False,
        verbose=0,
    )


def _finish_tileset(staging: Path, frame: georef.LocalFrame) -> list[int]:
    """Put the local frame under py3dtiles' root transform; drop unreferenced files."""
    path = staging / "tileset.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    root = doc["root"]
    local = np.array(root.get("transform", np.eye(4).reshape(-1).tolist())).reshape(4, 4).T
    world = np.array(frame.matrix()).reshape(4, 4).T @ local
    root["transform"] = [float(v) for v in world.T.reshape(-1)]
    path.write_text(json.dumps(doc, allow_nan=False), encoding="utf-8")
    used = set(_content_uris(root))
    for extra in staging.glob("*.pnts"):
        if extra.name not in used:
            extra.unlink()
    return [(staging / uri).stat().st_size for uri in used]


def _content_uris(tile: dict[str, Any]) -> list[str]:
    out = [tile["content"]["uri"]] if "content" in tile else []
    for child in tile.get("children", []):
        out += _content_uris(child)
    return out
