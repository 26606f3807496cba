"""Building footprints with heights, extruded to LoD1 blocks.

Reads GeoJSON (RFC 7946, and the older form with a ``crs`` member), GeoPackage and
Shapefile in a zip, through GDAL (pyogrio). Every Polygon or MultiPolygon, holes
included, becomes a closed prism: a ground face looking down (GroundSurface), a roof face
looking up (RoofSurface) and one wall quad per ring edge looking outward (WallSurface).

Heights, per footprint:

- the base is the ground attribute (``--ground-attribute``, an absolute elevation), else
  the lowest z of the footprint's own coordinates, else 0;
- the top is the base plus the height attribute (``--height-attribute``), or the
  absolute roof attribute (``--roof-attribute``), or the base plus the number of storeys
  (``--storeys-attribute``) times ``--storey-height``;
- without any of those options, common attribute names are detected (``HAUTEUR``,
  ``height``, ``measuredHeight``, ``Z_MIN_SOL``/``Z_MAX_TOIT``...) and a warning says which
  were used. Per footprint, the first of height, roof and storeys that has a value wins.

A footprint whose height is missing (and no ``--default-height``), zero, negative or over
1000 m is skipped and listed with the reason; when no footprint is left, that is an error.

CRS: the file's (GDAL reads the GeoJSON ``crs`` member, the GeoPackage's SRS and the
Shapefile's .prj), given as ``EPSG:n`` when GDAL identifies one, else as WKT. GeoJSON
without ``crs`` is WGS 84 longitude/latitude (RFC 7946): ``EPSG:4326``, read easting
first. Its z values and any ground or roof attribute are then taken as heights above the
ellipsoid (the conversion report says so), which may be tens of metres off the geoid.

Archives are never extracted: the zip's directory is checked first (entry count, sizes,
compression ratios, unsafe or colliding names, encryption), then GDAL reads the Shapefile
in place through ``/vsizip/``.
"""

from __future__ import annotations

import mmap
import re
import sqlite3
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from numpy.typing import NDArray

from ..errors import (
    CRSMissing,
    EmptyInput,
    InputError,
    NonFiniteCoordinate,
    UnsupportedFormat,
)
from ..model import Feature, Mesh, Skipped, SourceData, surface_index
from ..options import ConvertOptions
from ..polygons import PolygonBatch

NAME = "GeoJSON, GeoPackage and zipped Shapefile footprints (extruded to LoD1)"


class UnsafePath(InputError):
    """A zip entry name that could escape a folder or collide with another."""

    code = "unsafe_path"


class UnsupportedArchive(InputError):
    code = "unsupported_archive"


class ArchiveTooLarge(InputError):
    code = "archive_too_large"


class IncompleteShapefile(InputError):
    code = "incomplete_shapefile"


class NoHeight(InputError):
    code = "no_height"


#: Limits on a zip's central directory, checked before GDAL reads anything from it.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 8 * 1024**3
MAX_ZIP_RATIO = 200
_RATIO_FLOOR = 1024**2  # entries smaller than this may compress as well as they like
#: A building is not taller than this; a larger height is a unit or data error.
MAX_HEIGHT = 1000.0
MAX_COORDINATE = 1e9
_BATCH_POINTS = 100_000
_SQLITE = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GEOJSON_TYPE = re.compile(rb'"type"\s*:\s*"(?:FeatureCollection|Feature)"')
_DRIVE = re.compile(r"^[A-Za-z]:")

ROOF = surface_index("RoofSurface")
WALL = surface_index("WallSurface")
GROUND = surface_index("GroundSurface")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Attribute names detected when no option names one, compared case-insensitively and
# without "_", "-", ":", "." and spaces. Earlier names win.
_ID_NAMES = _words(
    "id fid gmlid identificatie cleabs objectid osmid uuid buildingid bldgid bagid lokalid "
    "identifier"
)
_HEIGHT_NAMES = _words(
    "height hauteur measuredheight höjd hojd buildingheight bldgheight höhe hoehe "
    "hoogte altezza altura heightaboveground relheight"
)
_GROUND_NAMES = _words(
    "zminsol groundelevation groundz zground groundlevel zsol altitudesol hmaaiveld "
    "b3hmaaiveld basez zmin"
)
_ROOF_NAMES = _words("zmaxtoit roofelevation roofz zroof rooflevel hdakmax b3hdakmax topz zmax")
_STOREY_NAMES = _words(
    "storeys stories storeysaboveground nbetages etages floors numfloors nfloors "
    "buildinglevels levels våningar vaningar antalvaningar bouwlagen geschosse "
    "anzahlgeschosse"
)


# -- sniffing -------------------------------------------------------------------------------
def sniff(path: Path, head: bytes) -> bool:
    """GeoJSON (not CityJSON), a GeoPackage, or a zip holding a ``.shp``."""
    if head.startswith(_SQLITE):
        return _is_geopackage(path, head)
    if head.startswith(_ZIP_MAGIC):
        return _zip_holds_shapefile(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    if b'"CityJSON' in head or b'"CityObjects"' in head:
        return False  # the CityJSON reader's
    if _GEOJSON_TYPE.search(head):
        return True
    if len(head) < path.stat().st_size:  # members come in any order
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b'"FeatureCollection"') >= 0 and mm.find(b'"CityObjects"') < 0
    return False


def _is_geopackage(path: Path, head: bytes) -> bool:
    """The GeoPackage application id, or a ``gpkg_contents`` table (read-only query)."""
    if head[68:72] in _GPKG_APPLICATION_IDS:
        return True
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_contents'"
        ).fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return row is not None


def _zip_holds_shapefile(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.lower().endswith(".shp") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


# -- reading --------------------------------------------------------------------------------
def read(path: Path, options: ConvertOptions) -> SourceData:
    """Read footprints and extrude them to LoD1 prisms in source coordinates."""
    name = path.name
    _check_options(options, name)
    with path.open("rb") as fh:
        head = fh.read(100)
    warnings: list[str] = []
    layer: str | None = None
    has_prj = True
    if head.startswith(_SQLITE):
        kind, source = "GeoPackage", str(path)
        layer = _polygon_layer(source, name, warnings)
    elif head.startswith(_ZIP_MAGIC):
        kind = "Shapefile (zip)"
        source, has_prj = check_zip(path)
    else:
        kind, source = "GeoJSON", str(path)
    info, frame = _load(source, layer, name)
    crs_text = info.get("crs") or None
    if not has_prj and not options.crs:
        raise CRSMissing(
            "the Shapefile has no .prj, so its CRS is unknown: pass one with --crs EPSG:<code>",
            source=name,
        )
    if kind == "GeoJSON" and crs_text == "EPSG:4326" and not _has_crs_member(path):
        warnings.append(
            "GeoJSON without 'crs' is WGS 84 longitude/latitude (RFC 7946); its z values "
            "and ground or roof elevations are taken as heights above the ellipsoid"
        )
    builder = _Builder(name, frame, info, options, warnings)
    builder.build()
    return SourceData(
        features=builder.features,
        crs_text=crs_text,
        format=kind,
        warnings=warnings,
        skipped=builder.skipped,
        object_count=len(frame),
        lods={"1": len(builder.features)},
        axis_order="xy",  # GDAL gives these formats' coordinates easting first
    )


def _check_options(options: ConvertOptions, name: str) -> None:
    if not (np.isfinite(options.storey_height) and 0 < options.storey_height <= 100):
        raise InputError(
            f"--storey-height must be a positive number of metres, got {options.storey_height}",
            source=name,
        )
    d = options.default_height
    if d is not None and not (np.isfinite(d) and 0 < d <= MAX_HEIGHT):
        raise InputError(
            f"--default-height must be between 0 and {MAX_HEIGHT:g} m, got {d}", source=name
        )


def _has_crs_member(path: Path) -> bool:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return re.search(rb'"crs"\s*:\s*\{', mm) is not None


def _load(source: str, layer: str | None, name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    try:
        info = pyogrio.read_info(source, layer=layer)
        frame = pyogrio.read_dataframe(
            source, layer=layer, datetime_as_string=True, fid_as_index=True, on_invalid="ignore"
        )
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.FeatureError,
        pyogrio.errors.CRSError,
    ) as exc:
        raise InputError(f"GDAL cannot read the file: {exc}", source=name) from None
    if not len(frame):
        raise EmptyInput("the file holds no features", source=name)
    return info, frame


def _polygon_layer(source: str, name: str, warnings: list[str]) -> str:
    try:
        layers = pyogrio.list_layers(source)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"not a readable GeoPackage: {exc}", source=name) from None
    polygonal = [str(n) for n, g in layers if g and "polygon" in str(g).lower()]
    if not polygonal:
        raise EmptyInput("the GeoPackage has no polygon layer", source=name)
    if len(polygonal) > 1:
        warnings.append(
            f"the GeoPackage has {len(polygonal)} polygon layers; read {polygonal[0]!r}, "
            f"left out {', '.join(repr(p) for p in polygonal[1:])}"
        )
    return polygonal[0]


def check_zip(path: Path) -> tuple[str, bool]:
    """Check a zip's directory and return GDAL's path of its Shapefile and whether it has
    a .prj. Raises on unsafe names, bombs, encryption and incomplete Shapefiles."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedArchive(f"not a readable zip archive: {exc}", source=name) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ArchiveTooLarge(
            f"the zip holds {len(infos)} entries (at most {MAX_ZIP_ENTRIES})", source=name
        )
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        entry = info.filename
        _check_entry_name(entry, name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafePath(f"zip entry {entry!r} is a symbolic link", source=name)
        if info.flag_bits & 0x1:
            raise UnsupportedArchive(f"zip entry {entry!r} is encrypted", source=name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsupportedArchive(
                f"zip entry {entry!r} uses compression method {info.compress_type} "
                "(only stored and deflate are read)",
                source=name,
            )
        key = entry.rstrip("/").casefold()
        if key in seen:
            raise UnsafePath(
                f"zip entries {seen[key]!r} and {entry!r} have the same name", source=name
            )
        seen[key] = entry
        total += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            raise ArchiveTooLarge(
                f"zip entry {entry!r} expands {info.file_size / max(info.compress_size, 1):.0f} "
                f"times (at most {MAX_ZIP_RATIO}): refusing a likely zip bomb",
                source=name,
            )
    if total > MAX_ZIP_BYTES:
        raise ArchiveTooLarge(
            f"the zip expands to {total / 1e9:.1f} GB (at most {MAX_ZIP_BYTES / 1e9:.0f} GB)",
            source=name,
        )
    shps = [i.filename for i in infos if i.filename.lower().endswith(".shp") and not i.is_dir()]
    if not shps:
        raise UnsupportedFormat("the zip holds no Shapefile (.shp)", source=name)
    if len(shps) > 1:
        raise InputError(
            f"the zip holds {len(shps)} Shapefiles ({', '.join(shps[:5])}); upload one per zip",
            source=name,
        )
    shp = shps[0]
    stem = shp[:-4].casefold()
    missing = [ext for ext in (".shx", ".dbf") if stem + ext not in seen]
    if missing:
        raise IncompleteShapefile(
            f"{shp!r} has no {' and no '.join(missing)} beside it in the zip: a Shapefile "
            "needs its .shp, .shx and .dbf files (and .prj for its CRS)",
            source=name,
        )
    return f"/vsizip/{path.resolve()}/{shp}", stem + ".prj" in seen


def _check_entry_name(entry: str, name: str) -> None:
    if not entry or any(ord(c) < 32 or c == "\x7f" for c in entry):
        raise UnsafePath(f"zip entry {entry!r} has a control character in its name", source=name)
    parts = re.split(r"[\\/]", entry)
    if entry.startswith(("/", "\\")) or _DRIVE.match(entry) or ".." in parts:
        raise UnsafePath(f"zip entry {entry!r} points outside the archive", source=name)


# -- heights ------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return re.sub(r"[\s_\-:.]", "", text).casefold()


def _find_column(columns: list[str], wanted: str, flag: str, name: str) -> str:
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    shown = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
    raise InputError(
        f"{flag} {wanted!r}: the file has no such attribute (it has: {shown or 'none'})",
        source=name,
    )


def _detect(columns: list[str], names: tuple[str, ...]) -> str | None:
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    for n in names:
        if n in by_norm:
            return by_norm[n]
    return None


@dataclass
class _Plan:
    """Which attributes give a footprint's base and top."""

    ground: str | None
    sources: list[tuple[str, str]]  # ("height" | "roof" | "storeys", column), in order


def plan_heights(
    columns: list[str], options: ConvertOptions, name: str, warnings: list[str]
) -> _Plan:
    """Decide the attributes the heights come from (given, else detected)."""
    given = [
        ("height", options.height_attribute, "--height-attribute"),
        ("roof", options.roof_attribute, "--roof-attribute"),
        ("storeys", options.storeys_attribute, "--storeys-attribute"),
    ]
    ground = (
        _find_column(columns, options.ground_attribute, "--ground-attribute", name)
        if options.ground_attribute
        else None
    )
    sources = [(k, _find_column(columns, w, f, name)) for k, w, f in given if w]
    if sources:
        return _Plan(ground, sources)
    detected_ground = None
    if ground is None:
        detected_ground = ground = _detect(columns, _GROUND_NAMES)
    found = [
        ("height", _detect(columns, _HEIGHT_NAMES)),
        ("roof", _detect(columns, _ROOF_NAMES) if ground else None),
        ("storeys", _detect(columns, _STOREY_NAMES)),
    ]
    sources = [(k, c) for k, c in found if c]
    if not sources:
        if options.default_height is not None:
            warnings.append(
                f"no height attribute found: every footprint is {options.default_height:g} m "
                "high (--default-height)"
            )
            return _Plan(ground, [])
        shown = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
        raise NoHeight(
            "no height attribute found among the footprints' attributes "
            f"({shown or 'none'}): name one with --height-attribute, --roof-attribute "
            "or --storeys-attribute, or give --default-height",
            source=name,
        )
    words = {"height": "height", "roof": "absolute roof", "storeys": "storeys"}
    used = [f"{words[k]} from {c!r}" for k, c in sources]
    if detected_ground:
        used.insert(0, f"ground elevation from {detected_ground!r}")
    warnings.append(
        "heights detected automatically: "
        + ", ".join(used)
        + " (the first with a value wins); choose with --height-attribute, "
        "--roof-attribute, --storeys-attribute or --ground-attribute"
    )
    return _Plan(ground, sources)


def _numbers(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    values = pd.to_numeric(frame[column], errors="coerce")
    out: NDArray[np.float64] = np.asarray(values, dtype=np.float64)
    return out


# -- geometry and features ----------------------------------------------------------------------
class _Builder:
    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        info: dict[str, Any],
        options: ConvertOptions,
        warnings: list[str],
    ) -> None:
        self.name = name
        self.frame = frame
        self.options = options
        self.warnings = warnings
        self.features: list[Feature] = []
        self.skipped: list[Skipped] = []
        geometry = frame.geometry.name if hasattr(frame, "geometry") else None
        self.columns = [str(c) for c in frame.columns if c != geometry]
        fields = [str(f) for f in info.get("fields", [])]
        dtypes = [str(d) for d in info.get("dtypes", [])]
        subtypes = [str(t) for t in info.get("ogr_subtypes", [])]
        self.int_columns = {f for f, d in zip(fields, dtypes, strict=False) if "int" in d}
        self.bool_columns = {
            f for f, t in zip(fields, subtypes, strict=False) if t == "OFSTBoolean"
        }
        self.values = {c: frame[c].tolist() for c in self.columns}
        geoms = frame.geometry.array if geometry else [None] * len(frame)
        self.geoms = np.asarray(geoms, dtype=object)

    def build(self) -> None:
        n = len(self.frame)
        ids = self._ids()
        base, top, reasons = self._heights(ids)
        repaired = 0
        batch, pending = PolygonBatch(), list[tuple[int, Mesh]]()
        for i in range(n):
            if reasons[i]:
                self.skipped.append(Skipped(ids[i], reasons[i]))
                continue
            parts, why, fixed = self._polygons(i, ids[i])
            if why:
                self.skipped.append(Skipped(ids[i], why))
                continue
            repaired += fixed
            walls = _add_prism(batch, len(pending), parts, float(base[i]), float(top[i]))
            pending.append((i, walls))
            if batch.point_count >= _BATCH_POINTS:
                self._finish_batch(batch, pending, ids)
                batch, pending = PolygonBatch(), []
        self._finish_batch(batch, pending, ids)
        if repaired:
            self.warnings.append(f"{repaired} invalid footprints repaired (shapely make_valid)")
        if not self.features:
            reasons_seen = Counter(s.reason for s in self.skipped).most_common(3)
            why = "; ".join(f"{r} ({c}x)" for r, c in reasons_seen)
            raise NoHeight(
                f"none of the {n} footprints can be extruded: {why}",
                source=self.name,
            )
        if self.skipped:
            self.warnings.append(
                f"{len(self.skipped)} footprints skipped (listed with their reasons)"
            )

    def _finish_batch(
        self, batch: PolygonBatch, pending: list[tuple[int, Mesh]], ids: list[str]
    ) -> None:
        meshes, _ = batch.meshes(len(pending))
        for (i, walls), faces in zip(pending, meshes, strict=True):
            mesh = Mesh.concat([faces, walls])
            if mesh.triangle_count == 0:
                self.skipped.append(Skipped(ids[i], "footprint without area"))
                continue
            self.features.append(
                Feature(
                    id=ids[i], type="Building", mesh=mesh, attributes=self._attributes(i), lod="1"
                )
            )

    # -- ids and attributes
    def _ids(self) -> list[str]:
        column = _detect(self.columns, _ID_NAMES)
        index = [str(v) for v in self.frame.index.tolist()]
        ids = []
        for row, fid in enumerate(index):
            value = (
                _python(self.values[column][row], column in self.int_columns) if column else None
            )
            ids.append(str(value) if value is not None and str(value).strip() else fid)
        counts = Counter(ids)
        if len(counts) < len(ids):
            seen: Counter[str] = Counter()
            for k, oid in enumerate(ids):
                if counts[oid] > 1:
                    seen[oid] += 1
                    ids[k] = f"{oid}#{seen[oid]}"
            dup = sum(1 for c in counts.values() if c > 1)
            self.warnings.append(
                f"{dup} ids occur more than once ({column or 'feature id'}); "
                "their footprints got '#1', '#2'... appended"
            )
        return ids

    def _attributes(self, row: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.columns:
            v = _python(self.values[c][row], c in self.int_columns)
            if v is not None:
                out[c] = bool(v) if c in self.bool_columns and isinstance(v, int | float) else v
        return out

    # -- heights
    def _heights(
        self, ids: list[str]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
        n = len(self.frame)
        plan = plan_heights(self.columns, self.options, self.name, self.warnings)
        reasons = [""] * n
        if plan.ground:
            base = _numbers(self.frame, plan.ground)
            for i in np.flatnonzero(~np.isfinite(base)).tolist():
                reasons[i] = f"no ground elevation ({plan.ground} is missing)"
        else:
            base = self._footprint_z()
        top = np.full(n, np.nan)
        source = np.full(n, "", dtype=object)
        for kind, column in plan.sources:
            values = _numbers(self.frame, column)
            if kind == "height":
                candidate = base + values
            elif kind == "roof":
                candidate = values
            else:
                candidate = base + values * self.options.storey_height
            take = np.isnan(top) & np.isfinite(values)
            top[take] = candidate[take]
            source[take] = column
        default = self.options.default_height
        missing = np.isnan(top)
        if default is not None:
            top[missing] = base[missing] + default
            source[missing] = "--default-height"
            if missing.any() and plan.sources:
                self.warnings.append(
                    f"{int(missing.sum())} footprints without a height got "
                    f"--default-height {default:g} m"
                )
        height = top - base
        names = " or ".join(c for _, c in plan.sources) or "height"
        for i in range(n):
            if reasons[i]:
                continue
            h = height[i]
            if np.isnan(h):
                reasons[i] = f"no height ({names} is missing)"
            elif h <= 0:
                reasons[i] = f"height {h:g} m from {source[i]} is not positive"
            elif h > MAX_HEIGHT:
                reasons[i] = f"height {h:g} m from {source[i]} is over {MAX_HEIGHT:g} m"
        return base, top, reasons

    def _footprint_z(self) -> NDArray[np.float64]:
        """Lowest z of each footprint's coordinates, 0 without z."""
        n = len(self.geoms)
        coords, index = shapely.get_coordinates(self.geoms, include_z=True, return_index=True)
        z = coords[:, 2]
        finite = np.isfinite(z)
        low = np.full(n, np.inf)
        np.minimum.at(low, index[finite], z[finite])
        low[~np.isfinite(low)] = 0.0
        return low

    # -- polygons
    def _polygons(self, i: int, oid: str) -> tuple[list[shapely.Polygon], str, int]:
        """The footprint's polygons (oriented), a reason to skip it, and 1 if repaired."""
        geom = self.geoms[i]
        if geom is None or shapely.is_empty(geom):
            return [], "no geometry", 0
        kind = shapely.get_type_id(geom)
        if kind not in (3, 6):  # Polygon, MultiPolygon
            return [], f"a {geom.geom_type} is not a footprint (Polygon or MultiPolygon)", 0
        xyz = shapely.get_coordinates(geom, include_z=True)
        xy, z = xyz[:, :2], xyz[:, 2]
        if not np.isfinite(xy).all() or np.abs(xy).max() > MAX_COORDINATE or np.isinf(z).any():
            raise NonFiniteCoordinate(
                "a coordinate is not a finite number (or is beyond 1e9)",
                source=self.name,
                object_id=oid,
            )
        fixed = 0
        geom = shapely.force_2d(geom)
        if not shapely.is_valid(geom):
            geom = shapely.make_valid(geom)
            fixed = 1
        parts = [
            p
            for p in shapely.get_parts(shapely.get_parts(geom))
            if shapely.get_type_id(p) == 3 and p.area > 0
        ]
        if not parts:
            return [], "invalid footprint that cannot be repaired (no area left)", 0
        oriented = [shapely.orient_polygons(p, exterior_cw=False) for p in parts]
        return oriented, "", fixed


def _ring(coords: Any) -> NDArray[np.float64]:
    """A ring's distinct points (x, y), without the closing point or repeated points."""
    pts = np.asarray(coords, dtype=np.float64)[:, :2]
    keep = np.ones(pts.shape[0], dtype=bool)
    keep[1:] = (pts[1:] != pts[:-1]).any(axis=1)
    pts = pts[keep]
    if pts.shape[0] > 1 and (pts[0] == pts[-1]).all():
        pts = pts[:-1]
    return pts


def _add_prism(
    batch: PolygonBatch, mesh: int, polygons: list[shapely.Polygon], base: float, top: float
) -> Mesh:
    """Add the roof and ground faces to ``batch`` and return the walls' mesh."""
    walls = []
    for poly in polygons:
        rings = [_ring(poly.exterior.coords)] + [_ring(r.coords) for r in poly.interiors]
        rings = [r for r in rings if r.shape[0] >= 3]
        if not rings:
            continue
        sizes = [r.shape[0] for r in rings]
        flat = np.concatenate(rings)
        roof = np.column_stack([flat, np.full(flat.shape[0], top)])
        batch.add(mesh, roof, sizes, [len(rings)], [ROOF])
        down = np.concatenate([r[::-1] for r in rings])
        ground = np.column_stack([down, np.full(down.shape[0], base)])
        batch.add(mesh, ground, sizes, [len(rings)], [GROUND])
        for r in rings:
            walls.append(_walls(r, base, top))
    return Mesh.concat(walls)


def _walls(ring: NDArray[np.float64], base: float, top: float) -> Mesh:
    """One quad per edge of a ring wound with the solid on its left: normals outward."""
    a = ring
    b = np.roll(ring, -1, axis=0)
    k = a.shape[0]
    lo = np.full((k, 1), base)
    hi = np.full((k, 1), top)
    quad = np.stack(
        [np.hstack([a, lo]), np.hstack([b, lo]), np.hstack([b, hi]), np.hstack([a, hi])], axis=1
    )
    positions = quad.reshape(-1, 3)
    first = np.arange(k, dtype=np.int64)[:, None] * 4
    corners = np.array([0, 1, 2, 0, 2, 3], dtype=np.int64)
    tris = (first + corners).reshape(-1, 3)
    return Mesh(positions, tris, np.full(tris.shape[0], WALL, dtype=np.int16))


def _python(value: Any, integer: bool) -> Any:
    """A cell as a plain Python value (None when missing), integers kept integral."""
    if isinstance(value, list | dict):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if integer and value.is_integer():
            return int(value)
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
