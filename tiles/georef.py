"""Coordinate reference systems and placement on the globe.

All CRS work lives here. Source coordinates go to WGS 84 longitude/latitude through the
source's *horizontal* CRS (pyproj, ``always_xy=True``, cached transformers), heights are
handled explicitly (see :class:`HeightPolicy`), and geodetic coordinates go to ECEF
(EPSG:4978). Tiles are written in a local east-north-up (ENU) frame whose origin is the
centre of the data; the tileset's root ``transform`` takes ENU to ECEF.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer, datadir
from pyproj.exceptions import CRSError as PyprojCRSError
from pyproj.transformer import TransformerGroup

from .errors import CRSOutOfArea, CRSUnknown, NonFiniteCoordinate

_EPSG_URL = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[^/]+/(\d+)/?$", re.I)
_EPSG_URN = re.compile(r"^urn:(?:x-)?ogc:def:crs:EPSG:[^:]*:(\d+)$", re.I)
_EPSG_SHORT = re.compile(r"^EPSG:{1,2}(\d+)$", re.I)
_URN_COMPOUND = re.compile(r"^urn:(?:x-)?ogc:def:crs,(.+)$", re.I)


def parse_crs(text: str) -> CRS:
    """Parse a CRS written as ``EPSG:n``, an OGC URN or URL, or a compound URN/URL.

    Accepted forms include ``urn:ogc:def:crs:EPSG::7415``,
    ``https://www.opengis.net/def/crs/EPSG/0/7415``,
    ``http://www.opengis.net/def/crs-compound?1=.../28992&2=.../5709`` and
    ``urn:ogc:def:crs,crs:EPSG::28992,crs:EPSG::5709``. Raises :class:`CRSUnknown`.
    """
    raw = text.strip()
    codes = _epsg_codes(raw)
    try:
        if codes is None:
            return CRS.from_user_input(raw)
        if len(codes) == 1:
            return CRS.from_epsg(codes[0])
        parts = [CRS.from_epsg(c) for c in codes]
        name = " + ".join(p.name for p in parts)
        return CRS.from_dict(
            {
                "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
                "type": "CompoundCRS",
                "name": name,
                "components": [p.to_json_dict() for p in parts],
            }
        )
    except PyprojCRSError as exc:
        raise CRSUnknown(
            f"unknown coordinate reference system {raw!r}: pass a known one with --crs EPSG:<code>"
        ) from exc


def _epsg_codes(raw: str) -> list[int] | None:
    for pattern in (_EPSG_URL, _EPSG_URN, _EPSG_SHORT):
        m = pattern.match(raw)
        if m:
            return [int(m.group(1))]
    if "crs-compound" in raw.lower():
        query = parse_qs(urlparse(raw).query)
        urls = [query[k][0] for k in sorted(query, key=lambda k: int(k) if k.isdigit() else 0)]
        codes = [_epsg_codes(u) for u in urls]
        if not codes or any(c is None or len(c) != 1 for c in codes):
            raise CRSUnknown(f"cannot read compound CRS {raw!r}")
        return [c[0] for c in codes if c]
    m = _URN_COMPOUND.match(raw)
    if m:
        codes = [_epsg_codes("urn:ogc:def:" + part) for part in m.group(1).split(",")]
        if any(c is None or len(c) != 1 for c in codes):
            raise CRSUnknown(f"cannot read compound CRS {raw!r}")
        return [c[0] for c in codes if c]
    return None


def crs_label(crs: CRS) -> str:
    """A short, stable label such as ``EPSG:7415``, or the CRS name when it has no code."""
    code = crs.to_epsg(min_confidence=90)
    if code is not None:
        return f"EPSG:{code}"
    subs = [s.to_epsg(min_confidence=90) for s in crs.sub_crs_list]
    if subs and all(subs):
        return "+".join(f"EPSG:{c}" for c in subs)
    return str(crs.name)


def use_grid_directory(path: Path | str) -> None:
    """Let PROJ find transformation grids (geoid models) in ``path`` as well.

    PROJ ships no geoid grids and twin downloads nothing, so an administrator places the
    grids a municipality needs (e.g. Lantmäteriet's ``se_lantmateriet_SWEN17_RH2000.tif``
    for RH 2000, ``nl_nsgi_nlgeo2018.tif`` for NAP, Debian's ``egm96_15.gtx``) in a folder
    and names it (``TWIN_PROJ_GRID_DIR``). Decisions cached before are forgotten.
    """
    folder = str(Path(path).resolve())
    if folder not in datadir.get_data_dir().split(":"):
        datadir.append_data_dir(folder)
    _transformer.cache_clear()
    _height_policy.cache_clear()


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_user_input(dst), always_xy=True)


@dataclass(frozen=True)
class HeightPolicy:
    """How source heights became ellipsoidal heights, for the report.

    ``unit_factor`` converts source heights to metres where no geoid transformation does
    it (US survey feet exist); ``units`` names the horizontal and vertical units.
    """

    vertical_crs: str | None
    method: str  # "ellipsoidal", "geoid", "as-ellipsoidal"
    note: str
    units: str = "metre"
    unit_factor: float = 1.0


def _horizontal(crs: CRS) -> CRS:
    if crs.is_compound:
        return crs.sub_crs_list[0]
    return crs


def height_policy(crs: CRS) -> HeightPolicy:
    """Decide how heights of ``crs`` become ellipsoidal heights (WGS 84)."""
    return _height_policy(crs.to_wkt())


def _units(crs: CRS) -> tuple[str, str, float]:
    """The units of ``crs`` for the report, and the factor taking its heights to metres.

    The vertical unit is the vertical CRS's; a CRS without one gives heights in its
    horizontal unit (a projected CRS in feet has its z in feet), a geographic one in metres.
    """
    horiz = _horizontal(crs)
    h_axes = [a for a in horiz.axis_info if a.direction.lower() in ("east", "north")]
    h_unit = h_axes[0].unit_name if h_axes else "degree"
    v_axes = [a for a in crs.axis_info if a.direction.lower() == "up"]
    if v_axes:
        v_unit, factor = v_axes[0].unit_name, float(v_axes[0].unit_conversion_factor)
    elif horiz.is_projected and h_axes:
        v_unit, factor = h_unit, float(h_axes[0].unit_conversion_factor)
    else:
        v_unit, factor = "metre", 1.0
    if h_unit == v_unit:
        return h_unit, v_unit, factor
    return f"{h_unit} horizontally, {v_unit} vertically", v_unit, factor


@lru_cache(maxsize=64)
def _height_policy(wkt: str) -> HeightPolicy:
    crs = CRS.from_wkt(wkt)
    units, v_unit, factor = _units(crs)
    policy = _height_decision(crs)
    if policy.method != "as-ellipsoidal" or factor == 1.0:
        return HeightPolicy(policy.vertical_crs, policy.method, policy.note, units, 1.0)
    return HeightPolicy(
        policy.vertical_crs,
        policy.method,
        f"{policy.note}; heights converted from {v_unit} to metres (x {factor:.12g})",
        units,
        factor,
    )


def _height_decision(crs: CRS) -> HeightPolicy:
    if crs.is_compound and len(crs.sub_crs_list) > 1:
        vertical = crs.sub_crs_list[1]
        vname = crs_label(vertical)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            group = TransformerGroup(crs, CRS.from_epsg(4979), always_xy=True)
        if group.best_available and group.transformers:
            desc = group.transformers[0].description
            if "ballpark" not in desc.lower():
                return HeightPolicy(vname, "geoid", f"heights converted with {desc}")
        # The grids of the best operation PROJ knows but cannot run (the first listed).
        best_missing = group.unavailable_operations[:1]
        missing = sorted(
            {grid.short_name for op in best_missing for grid in op.grids if not grid.available}
        )
        why = (
            f"geoid grid {', '.join(missing)} is not installed"
            if missing
            else "no geoid model is available"
        )
        return HeightPolicy(
            vname,
            "as-ellipsoidal",
            f"{vname} heights used as ellipsoidal heights ({why}); the model's "
            "ground sits near the ellipsoid, which suits viewers without terrain",
        )
    if (crs.is_geographic and len(crs.axis_info) == 3) or crs.is_geocentric:
        return HeightPolicy(None, "ellipsoidal", "heights are ellipsoidal in the source CRS")
    return HeightPolicy(
        None,
        "as-ellipsoidal",
        "the CRS declares no vertical system; heights used as ellipsoidal heights",
    )


def to_geodetic(crs: CRS, xyz: NDArray[np.float64], axis_order: str = "xy") -> NDArray[np.float64]:
    """Source coordinates ``(n, 3)`` to WGS 84 ``(lon, lat, h)`` in degrees and metres.

    ``axis_order`` "xy" reads the first coordinate as easting (longitude), "yx" as
    northing (latitude). Horizontal positions go through the horizontal part of ``crs``;
    heights follow :func:`height_policy` (through a geoid where PROJ has one, else kept).
    """
    pts = np.asarray(xyz, dtype=np.float64)
    if axis_order == "yx":
        pts = pts[:, [1, 0, 2]]
    if crs.is_geocentric:
        t = _transformer(crs.to_wkt(), "EPSG:4979")
        lon, lat, h = t.transform(pts[:, 0], pts[:, 1], pts[:, 2])
        return _finite(np.column_stack([lon, lat, h]))
    horiz = _horizontal(crs)
    t = _transformer(horiz.to_wkt(), "EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lon, lat = t.transform(pts[:, 0], pts[:, 1])
    policy = height_policy(crs)
    h = pts[:, 2] * policy.unit_factor
    if policy.method == "geoid":
        t3 = _transformer(crs.to_wkt(), "EPSG:4979")
        _, _, h = t3.transform(pts[:, 0], pts[:, 1], pts[:, 2])
    return _finite(np.column_stack([lon, lat, h]))


def _finite(arr: NDArray[np.float64]) -> NDArray[np.float64]:
    if not np.isfinite(arr).all():
        raise NonFiniteCoordinate(
            "coordinates fall outside the CRS (the transformation gave "
            "infinite or NaN values): check the CRS and axis order"
        )
    return arr


def geodetic_to_ecef(llh: NDArray[np.float64]) -> NDArray[np.float64]:
    t = _transformer(CRS.from_epsg(4979).to_wkt(), "EPSG:4978")
    x, y, z = t.transform(llh[:, 0], llh[:, 1], llh[:, 2])
    return np.column_stack([x, y, z])


_AREA_MARGIN = 0.5  # degrees: exports often spill a little past the official area


def _inside_area(crs: CRS, llh: NDArray[np.float64]) -> bool:
    aou = crs.area_of_use or _horizontal(crs).area_of_use
    if not np.isfinite(llh).all() or (np.abs(llh[:, 1]) > 90).any():
        return False
    if aou is None:
        return True
    m = _AREA_MARGIN
    return bool(
        (llh[:, 0] >= aou.west - m).all()
        and (llh[:, 0] <= aou.east + m).all()
        and (llh[:, 1] >= aou.south - m).all()
        and (llh[:, 1] <= aou.north + m).all()
    )


@dataclass(frozen=True)
class AxisDecision:
    order: str  # "xy" (easting first) or "yx" (northing first)
    note: str


def choose_axis_order(
    crs: CRS,
    xyz: NDArray[np.float64],
    requested: str | None = None,
    source: str | None = None,
    preferred: str | None = None,
) -> AxisDecision:
    """Decide whether the first coordinate is easting ("xy") or northing ("yx").

    A projected CRS that declares northing first (SWEREF 99 TM, the Japanese plane
    systems) is tried in that order first, anything else easting first; when the data
    falls outside the CRS's area of use in that order but inside it in the other, the
    other is taken and the note says so. Outside in both: :class:`CRSOutOfArea`.
    ``preferred`` (a reader's hint, e.g. GML's "coordinates follow the CRS's own axis
    order", which is latitude first for EPSG:4326 and 6697) replaces the first guess.
    """
    if requested in ("xy", "yx"):
        return AxisDecision(requested, f"axis order {requested} as given")
    horiz = _horizontal(crs)
    north_first = (
        horiz.is_projected
        and bool(horiz.axis_info)
        and horiz.axis_info[0].direction.lower() == "north"
    )
    if preferred in ("xy", "yx"):  # the order the file says it uses (GML: the CRS's)
        north_first = preferred == "yx"
    first, second = ("yx", "xy") if north_first else ("xy", "yx")
    names = {"xy": "easting, northing", "yx": "northing, easting"}
    if crs.is_geographic:
        names = {"xy": "longitude, latitude", "yx": "latitude, longitude"}
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    corners = np.array(
        [
            [lo[0], lo[1], lo[2]],
            [hi[0], hi[1], lo[2]],
            [lo[0], hi[1], lo[2]],
            [hi[0], lo[1], lo[2]],
            [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]],
        ]
    )
    tried = {}
    for order in (first, second):
        try:
            llh = to_geodetic(crs, corners, order)
        except NonFiniteCoordinate:
            llh = np.full((1, 3), np.nan)
        tried[order] = llh
        if _inside_area(crs, llh):
            if order == first:
                return AxisDecision(order, f"coordinates read as {names[order]}")
            return AxisDecision(
                order,
                f"coordinates read as {names[order]}: in the order "
                f"{names[first]} they fall outside the area of use of "
                f"{crs_label(crs)}",
            )
    llh = tried[first]
    aou = crs.area_of_use or horiz.area_of_use
    where = ""
    if np.isfinite(llh).all():
        where = (
            f"data lies at lon {llh[:, 0].min():.4f}..{llh[:, 0].max():.4f}, lat "
            f"{llh[:, 1].min():.4f}..{llh[:, 1].max():.4f}, "
        )
    raise CRSOutOfArea(
        f"{where}outside the area of use of {crs_label(crs)} "
        f"({aou.name if aou else 'unknown'}) in either axis order: likely a wrong CRS or a "
        "missing offset; pass the right one with --crs",
        source=source,
    )


@dataclass(frozen=True)
class LocalFrame:
    """An east-north-up frame at ``origin`` (lon, lat, h in degrees/metres)."""

    lon: float
    lat: float
    height: float

    @property
    def origin_ecef(self) -> NDArray[np.float64]:
        t = _transformer(CRS.from_epsg(4979).to_wkt(), "EPSG:4978")
        return np.array(t.transform(self.lon, self.lat, self.height), dtype=np.float64)

    @property
    def rotation(self) -> NDArray[np.float64]:
        """Columns are the east, north and up unit vectors in ECEF."""
        lo, la = np.radians(self.lon), np.radians(self.lat)
        east = [-np.sin(lo), np.cos(lo), 0.0]
        north = [-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)]
        up = [np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]
        return np.column_stack([east, north, up])

    def ecef_to_enu(self, ecef: NDArray[np.float64]) -> NDArray[np.float64]:
        return (ecef - self.origin_ecef) @ self.rotation

    def matrix(self) -> list[float]:
        """The ENU-to-ECEF 4x4 matrix, column-major as 3D Tiles ``transform`` wants."""
        m = np.eye(4)
        m[:3, :3] = self.rotation
        m[:3, 3] = self.origin_ecef
        return [float(v) for v in m.T.reshape(-1)]
