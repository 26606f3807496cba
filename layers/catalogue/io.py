"""Catalogue import and export: CSV, GeoJSON and XLSX in; GeoJSON and CSV out.

The existing catalogues live in spreadsheets, so every importer maps its columns (or
GeoJSON properties) to :class:`~layers.catalogue.schemas.ProjectIn` by name, case-blind,
spaces and hyphens read as ``_``. Each row becomes a ``ProjectIn`` or a list of row errors.
:func:`run_import` checks each row's permission and creates the projects through
:func:`layers.catalogue.service.create_project`, all or nothing.

=================  =================================================  =====================
Field              Columns accepted (export writes the first)         Values
=================  =================================================  =====================
title_sv           title_sv, titel, titel_sv, title, namn,            text (required)
                   projektnamn
title_en           title_en, titel_en, engelsk_titel                  text
summary_sv         summary_sv, sammanfattning, sammanfattning_sv,     text
                   summary
summary_en         summary_en, sammanfattning_en                      text
description        description, beskrivning                           Markdown
municipalities     municipalities, municipality, kommun, kommuner     codes or names (required)
categories         categories, category, kategori, kategorier         keys or sv/en names
status             status                                             key or Swedish word
start_date         start_date, startdatum, start                      ISO date, Excel date
end_date           end_date, slutdatum, slut                          ISO date, Excel date
contact            contact, kontakt, kontaktperson                    text
contact_public     contact_public, kontakt_publik                     boolean
partners           partners, partner, samarbetspartner(s), parter     list
links              links, länkar, lankar, länk                        list: url, title <url>
testbed            testbed, testbädd                                  boolean
tags               tags, taggar, nyckelord                            list
public             public, publik, offentlig, publicerad              boolean (default no)
geometry           wkt, geometry, geometri                            WKT or GeoJSON text
point              lon + lat, longitude + latitude, longitud +        WGS 84 degrees
                   latitud, lng
=================  =================================================  =====================

Lists in a cell are ``;``-separated (a GeoJSON property may be a JSON array instead).

Status words: idé/ide → idea, planerad → planned, pågående/pågår → ongoing,
avslutad/genomförd/klar → completed, pausad/vilande → paused, stoppad/avbruten → stopped
(the English keys work too). Booleans: ja/nej, yes/no, true/false, sant/falskt, 1/0, x.
Geometry: a GeoJSON feature's own geometry wins, then ``wkt``, then ``lon``/``lat``;
a GeometryCollection becomes its member geometries. Columns the export writes but an
import cannot set (id, version, timestamps ...) are ignored silently, other unknown
columns are ignored and listed in the report. A leading ``'`` before ``= + - @`` (the
export's formula-injection guard) is removed again.

Row numbers in errors are spreadsheet rows (the header is row 1) for CSV and XLSX, and
the feature's position (from 1) for GeoJSON.

Limits: :data:`MAX_BYTES` per file, :data:`MAX_ROWS` rows, :data:`MAX_COLUMNS` columns;
XLSX files are opened read-only after their ZIP directory has been checked for bombs
(total uncompressed size, entry count, compression ratio, DTDs).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO, StringIO
from typing import Any, Literal

import shapely
import shapely.errors
import shapely.geometry
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import service
from .errors import CatalogueError, InvalidProject
from .models import Category, Municipality, Project, ProjectMunicipality
from .queries import to_out
from .rules import Action, Principal, can
from .schemas import ProjectIn, ProjectOut

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5_000
MAX_COLUMNS = 100
EXPORT_PAGE = 500
XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024
XLSX_MAX_ENTRIES = 1_000
XLSX_MAX_RATIO = 200

Format = Literal["csv", "geojson", "xlsx"]


class ImportTooLarge(CatalogueError):
    """The file is over a size, row or decompression limit (HTTP 413)."""

    code = "too_large"


class UnsupportedFormat(CatalogueError):
    """The content is not CSV, GeoJSON or XLSX, whatever its name says (HTTP 415)."""

    code = "unsupported_format"


class InvalidImport(InvalidProject):
    """The file as a whole cannot be read (HTTP 422); row problems are row errors."""

    code = "invalid_import"


ALIASES: dict[str, tuple[str, ...]] = {
    "title_sv": ("title_sv", "titel", "titel_sv", "title", "namn", "projektnamn"),
    "title_en": ("title_en", "titel_en", "engelsk_titel", "english_title"),
    "summary_sv": ("summary_sv", "sammanfattning", "sammanfattning_sv", "summary"),
    "summary_en": ("summary_en", "sammanfattning_en"),
    "description": ("description", "beskrivning"),
    "municipalities": ("municipalities", "municipality", "kommun", "kommuner"),
    "categories": ("categories", "category", "kategori", "kategorier"),
    "status": ("status",),
    "start_date": ("start_date", "startdatum", "start"),
    "end_date": ("end_date", "slutdatum", "slut"),
    "contact": ("contact", "kontakt", "kontaktperson"),
    "contact_public": ("contact_public", "kontakt_publik"),
    "partners": ("partners", "partner", "samarbetspartner", "samarbetspartners", "parter"),
    "links": ("links", "länkar", "lankar", "länk"),
    "testbed": ("testbed", "testbädd"),
    "tags": ("tags", "taggar", "nyckelord"),
    "public": ("public", "publik", "offentlig", "publicerad"),
    "wkt": ("wkt", "geometry", "geometri"),
    "lon": ("lon", "longitude", "longitud", "lng"),
    "lat": ("lat", "latitude", "latitud"),
}
_FIELD_OF = {alias: f for f, names in ALIASES.items() for alias in names}
#: Written by the export, not settable by an import: ignored without a warning.
READ_ONLY = frozenset(
    {"id", "version", "created_at", "updated_at", "created_by", "updated_by", "bbox"}
    | {"description_html", "images", "stale", "last_reviewed_at"}
)
STATUS_WORDS = {
    "idé": "idea",
    "ide": "idea",
    "planerad": "planned",
    "planerat": "planned",
    "pågående": "ongoing",
    "pagaende": "ongoing",
    "pågår": "ongoing",
    "avslutad": "completed",
    "avslutat": "completed",
    "genomförd": "completed",
    "klar": "completed",
    "pausad": "paused",
    "pausat": "paused",
    "vilande": "paused",
    "stoppad": "stopped",
    "stoppat": "stopped",
    "avbruten": "stopped",
}
_TRUE = frozenset({"ja", "j", "yes", "y", "true", "sant", "1", "x"})
_FALSE = frozenset({"nej", "n", "no", "false", "falskt", "0", ""})
_LIST_FIELDS = ("municipalities", "categories", "partners", "tags")
_BOOL_FIELDS = ("contact_public", "testbed", "public")
_LINK = re.compile(r"^(.*?)\s*<(\S+)>$")


@dataclass(frozen=True)
class Reference:
    """Municipality codes → names and category keys → (Swedish, English) names."""

    municipalities: Mapping[str, str]
    categories: Mapping[str, tuple[str, str]]

    def municipality_code(self, value: str) -> str | None:
        if value in self.municipalities:
            return value
        key = value.casefold()
        return next((c for c, n in self.municipalities.items() if n.casefold() == key), None)

    def category_key(self, value: str) -> str | None:
        key = value.casefold()
        for k, (sv, en) in self.categories.items():
            if key in (k.casefold(), sv.casefold(), en.casefold()):
                return k
        return None


def load_reference(session: Session) -> Reference:
    return Reference(
        municipalities={m.code: m.name for m in session.scalars(select(Municipality))},
        categories={c.key: (c.name_sv, c.name_en) for c in session.scalars(select(Category))},
    )


@dataclass(frozen=True)
class RowError:
    row: int
    field: str | None
    message: str


@dataclass(frozen=True)
class ParsedRow:
    row: int
    project: ProjectIn


@dataclass
class Parsed:
    """What a file held: valid rows, row errors, and notes about its columns."""

    format: Format
    rows_read: int = 0
    valid: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


@dataclass(frozen=True)
class _Raw:
    row: int
    values: dict[str, Any]  # canonical field -> raw value
    geometry: dict[str, Any] | None = None  # a GeoJSON feature's own geometry
    error: str | None = None


# -- reading ---------------------------------------------------------------------------


def detect_format(data: bytes) -> Format:
    """CSV, GeoJSON or XLSX by content (the file name is not trusted)."""
    if len(data) > MAX_BYTES:
        raise ImportTooLarge(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise InvalidImport("the file is empty")
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(BytesIO(data)).namelist()
        except zipfile.BadZipFile as exc:
            raise UnsupportedFormat("a damaged ZIP archive, not an XLSX workbook") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise UnsupportedFormat("a ZIP archive that is not an XLSX workbook")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFormat("an old Excel .xls file: save it as .xlsx or CSV (UTF-8)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise UnsupportedFormat("binary or UTF-16 content: save the file as CSV (UTF-8)")
    first = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if first == b"{":
        return "geojson"
    if first in (b"[", b"<"):
        raise UnsupportedFormat("not CSV, GeoJSON (a FeatureCollection) or XLSX")
    return "csv"


def _text(data: bytes, warnings: list[str]) -> str:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append("the file is not UTF-8; it was read as Windows-1252 (Excel's default)")
        return data.decode("cp1252", errors="replace")


def _columns(header: Iterable[Any], parsed: Parsed) -> list[str | None]:
    """Canonical field per column (None: ignored); refuses two columns for one field."""
    out: list[str | None] = []
    for raw in header:
        name = str(raw).strip() if raw is not None else ""
        key = re.sub(r"[\s\-]+", "_", name.casefold())
        canonical = _FIELD_OF.get(key)
        if canonical is None and name and key not in READ_ONLY:
            parsed.ignored_columns.append(name)
        if canonical is not None and canonical in out:
            raise InvalidImport(f"two columns give {canonical}; keep one", field=canonical)
        out.append(canonical)
    if "title_sv" not in out:
        raise InvalidImport(
            f"no title column (one of {', '.join(ALIASES['title_sv'])})", field="title_sv"
        )
    if "municipalities" not in out:
        raise InvalidImport(
            f"no municipality column (one of {', '.join(ALIASES['municipalities'])})",
            field="municipalities",
        )
    return out


def _table_rows(rows: Iterator[tuple[int, list[Any]]], parsed: Parsed) -> Iterator[_Raw]:
    """Rows of a sheet (CSV or XLSX) as canonical dicts; the first row is the header."""
    try:
        _, header = next(rows)
    except StopIteration:
        raise InvalidImport("the file has no header row") from None
    columns = _columns(header[:MAX_COLUMNS], parsed)
    for number, cells in rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        parsed.rows_read += 1
        if parsed.rows_read > MAX_ROWS:
            raise ImportTooLarge(f"more than {MAX_ROWS} rows; split the file")
        values = {c: v for c, v in zip(columns, cells, strict=False) if c is not None}
        yield _Raw(number, values)


def _csv_rows(data: bytes, parsed: Parsed) -> Iterator[_Raw]:
    text = _text(data, parsed.warnings)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(StringIO(text, newline=""), delimiter=delimiter)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise InvalidImport(f"unreadable CSV near row {reader.line_num}: {exc}") from exc

    yield from _table_rows(numbered(), parsed)


def _check_xlsx_zip(data: bytes) -> None:
    archive = zipfile.ZipFile(BytesIO(data))
    infos = archive.infolist()
    if len(infos) > XLSX_MAX_ENTRIES:
        raise ImportTooLarge(f"the workbook has more than {XLSX_MAX_ENTRIES} parts")
    if sum(i.file_size for i in infos) > XLSX_MAX_UNCOMPRESSED:
        raise ImportTooLarge("the workbook unpacks to more than 100 MB")
    for info in infos:
        if info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1024):
            raise ImportTooLarge(f"{info.filename} is compressed suspiciously well (a bomb?)")
        if info.filename.endswith((".xml", ".rels")):
            with archive.open(info) as f:
                head = f.read(65536).lower()
            if b"<!doctype" in head or b"<!entity" in head:
                raise InvalidImport(f"{info.filename} declares a DTD; refused")


def _xlsx_rows(data: bytes, parsed: Parsed) -> Iterator[_Raw]:
    import openpyxl

    _check_xlsx_zip(data)
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InvalidImport(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        numbered = ((n, list(r)) for n, r in enumerate(cells, start=1))
        yield from _table_rows(numbered, parsed)
    finally:
        workbook.close()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _geojson_rows(data: bytes, parsed: Parsed) -> Iterator[_Raw]:
    try:
        doc = json.loads(_text(data, parsed.warnings), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidImport(f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise InvalidImport("GeoJSON must be a FeatureCollection (or one Feature)")
    crs = json.dumps(doc.get("crs") or "CRS84")
    if not any(k in crs for k in ("CRS84", "4326")):
        raise InvalidImport("GeoJSON coordinates must be WGS 84 lon/lat (RFC 7946)", field="crs")
    features = doc.get("features") if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise InvalidImport("features must be a list", field="features")
    if len(features) > MAX_ROWS:
        raise ImportTooLarge(f"more than {MAX_ROWS} features; split the file")
    if not features:
        raise InvalidImport("the FeatureCollection has no features")
    ignored: set[str] = set()
    for number, feature in enumerate(features, start=1):
        parsed.rows_read += 1
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            yield _Raw(number, {}, error="not a GeoJSON Feature")
            continue
        if not isinstance(props, dict | None):
            yield _Raw(number, {}, error="properties must be an object")
            continue
        values: dict[str, Any] = {}
        for name, value in (props or {}).items():
            key = re.sub(r"[\s\-]+", "_", str(name).casefold())
            canonical = _FIELD_OF.get(key)
            if canonical is None:
                if key not in READ_ONLY and name not in ignored:
                    ignored.add(name)
                    parsed.ignored_columns.append(name)
            elif canonical not in values:
                values[canonical] = value
        geometry = feature.get("geometry")
        yield _Raw(number, values, geometry if isinstance(geometry, dict) else None)
        if geometry is not None and not isinstance(geometry, dict):
            parsed.errors.append(RowError(number, "geometry", "geometry must be an object"))


# -- WKT (lon/lat) ---------------------------------------------------------------------


def wkt_loads(text: str) -> list[dict[str, Any]]:
    """WKT (or EWKT with SRID=4326) in lon/lat to GeoJSON geometries (shapely); a
    GEOMETRYCOLLECTION gives its members."""
    srid, sep, rest = text.partition(";")
    if sep:
        if srid.strip().upper() not in ("SRID=4326", "SRID=4979"):
            raise ValueError(f"{srid.strip()}: only WGS 84 lon/lat (SRID=4326) is accepted")
        text = rest
    try:
        geometry = shapely.from_wkt(text)
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise ValueError(f"WKT: {exc}") from None
    return _wkt_members(geometry, 0)


def _wkt_members(geometry: Any, nesting: int) -> list[dict[str, Any]]:
    if geometry is None or geometry.is_empty:
        return []
    if geometry.geom_type == "GeometryCollection":
        if nesting > 3:
            raise ValueError("WKT: collections nested too deep")
        return [g for part in geometry.geoms for g in _wkt_members(part, nesting + 1)]
    mapped = shapely.geometry.mapping(geometry)
    return [{"type": mapped["type"], "coordinates": _lists(mapped["coordinates"])}]


def _lists(coords: Any) -> Any:
    if isinstance(coords, tuple | list):
        return [_lists(c) for c in coords]
    return float(coords)


def wkt_dumps(geometry: dict[str, Any]) -> str:
    """A GeoJSON geometry (or GeometryCollection) as WKT (shapely); heights kept."""
    return str(shapely.to_wkt(shapely.geometry.shape(geometry), rounding_precision=-1))


# -- one row to a ProjectIn ------------------------------------------------------------


def _str(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores codes such as 1283 as numbers
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]  # undo the export's formula-injection guard
    return text


def _list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[;\n]", _str(value))
    return [_str(i) for i in items if i is not None and _str(i)]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _str(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no (ja/nej, true/false, 1/0)")


def _links(value: Any) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in value if isinstance(value, list) else _list(value):
        if isinstance(item, dict):
            out.append({"title": str(item.get("title") or ""), "url": str(item.get("url", ""))})
            continue
        match = _LINK.match(_str(item))
        title, url = (match.group(1), match.group(2)) if match else ("", _str(item))
        out.append({"title": title, "url": url})
    return out


def _number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return float(_str(value).replace(",", "."))  # a Swedish decimal comma


def _geometries(raw: _Raw) -> list[dict[str, Any]]:
    if raw.geometry is not None:
        g = raw.geometry
        if g.get("type") == "GeometryCollection":
            members = g.get("geometries")
            if not isinstance(members, list):
                raise ValueError("a GeometryCollection needs a geometries list")
            return members
        return [g]
    text = _str(raw.values.get("wkt") or "")
    if text:
        if text.startswith("{"):
            return _geometries(_Raw(raw.row, {}, json.loads(text)))
        return wkt_loads(text)
    lon, lat = raw.values.get("lon"), raw.values.get("lat")
    has_lon, has_lat = _str(lon or "") != "", _str(lat or "") != ""
    if has_lon != has_lat:
        raise ValueError("give both lon and lat, or neither")
    if has_lon:
        return [{"type": "Point", "coordinates": [_number(lon), _number(lat)]}]
    return []


def _convert(name: str, value: Any, ref: Reference) -> Any:
    if name == "municipalities":
        codes = []
        for item in _list(value):
            code = ref.municipality_code(item)
            if code is None:
                raise ValueError(f"unknown municipality {item!r} (give a code or a name)")
            codes.append(code)
        return codes
    if name == "categories":
        keys = []
        for item in _list(value):
            key = ref.category_key(item)
            if key is None:
                raise ValueError(f"unknown category {item!r} (one of {', '.join(ref.categories)})")
            keys.append(key)
        return keys
    if name == "status":
        word = _str(value).casefold()
        return STATUS_WORDS.get(word, word)
    if name in _LIST_FIELDS:
        return _list(value)
    if name in _BOOL_FIELDS:
        return _bool(value)
    if name == "links":
        return _links(value)
    if name in ("start_date", "end_date"):
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else _str(value)[:10]
    return _str(value)


def to_project(raw: _Raw, ref: Reference) -> ProjectIn | list[RowError]:
    """One row to a ``ProjectIn``, or every problem found in it."""
    if raw.error:
        return [RowError(raw.row, None, raw.error)]
    errors: list[RowError] = []
    data: dict[str, Any] = {}
    for name, value in raw.values.items():
        if name in ("wkt", "lon", "lat") or value is None or _str(value) == "":
            continue
        try:
            data[name] = _convert(name, value, ref)
        except ValueError as exc:
            errors.append(RowError(raw.row, name, str(exc)))
    try:
        data["geometries"] = _geometries(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        errors.append(RowError(raw.row, "geometry", str(exc)))
    if errors:
        return errors
    try:
        return ProjectIn.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            message = err["msg"].removeprefix("Value error, ")
            where = str(loc[0]) if loc else ("end_date" if "end_date" in message else None)
            where = "geometry" if where == "geometries" else where
            errors.append(RowError(raw.row, where, message))
        return errors


def parse(data: bytes, ref: Reference) -> Parsed:
    """Read a CSV, GeoJSON or XLSX file (detected by content) into projects and errors."""
    fmt = detect_format(data)
    parsed = Parsed(format=fmt)
    readers = {"csv": _csv_rows, "geojson": _geojson_rows, "xlsx": _xlsx_rows}
    for raw in readers[fmt](data, parsed):
        if any(e.row == raw.row for e in parsed.errors):
            continue
        result = to_project(raw, ref)
        if isinstance(result, ProjectIn):
            parsed.valid.append(ParsedRow(raw.row, result))
        else:
            parsed.errors.extend(result)
    if parsed.rows_read == 0:
        raise InvalidImport("the file has no rows below its header")
    return parsed


# -- writing ---------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "title_sv",
    "title_en",
    "summary_sv",
    "summary_en",
    "description",
    "municipalities",
    "categories",
    "status",
    "start_date",
    "end_date",
    "contact",
    "partners",
    "links",
    "testbed",
    "tags",
    "public",
    "lon",
    "lat",
    "wkt",
    "updated_at",
)


def feature(out: ProjectOut) -> dict[str, Any]:
    """A project as a GeoJSON Feature: the stored GeometryCollection (or null)."""
    props = out.model_dump(mode="json", exclude={"geometry", "bbox"})
    f: dict[str, Any] = {"type": "Feature", "id": out.id, "geometry": out.geometry}
    if out.bbox is not None:
        f["bbox"] = out.bbox
    f["properties"] = props
    return f


def export_projects(
    db: Session, principal: Principal, f: service.ProjectFilter | None = None, stale_months: int = 6
) -> Iterator[ProjectOut]:
    """Every project ``principal`` may see that matches ``f``, as they may see it."""
    f = f or service.ProjectFilter(sort="title")
    offset = 0
    while True:
        page = f.model_copy(update={"limit": EXPORT_PAGE, "offset": offset})
        chunk, _total = service.search_projects(db, principal, page)
        yield from (to_out(p, principal, stale_months=stale_months) for p in chunk)
        offset += len(chunk)
        if len(chunk) < EXPORT_PAGE:
            return


def write_geojson(outs: Iterable[ProjectOut]) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946, WGS 84) of ``outs``."""
    doc = {"type": "FeatureCollection", "features": [feature(o) for o in outs]}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


def escape_cell(text: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _first_position(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    coords: Any = geometry
    while isinstance(coords, dict):
        members = coords.get("geometries")
        coords = members[0] if members else coords.get("coordinates")
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    if isinstance(coords, list) and len(coords) >= 2:
        return float(coords[0]), float(coords[1])
    return None


def _csv_values(out: ProjectOut) -> list[str]:
    def text(v: Any) -> str:
        return "" if v is None else escape_cell(str(v))

    first = _first_position(out.geometry)
    links = [f"{lk.title} <{lk.url}>" if lk.title else lk.url for lk in out.links]
    return [
        str(out.id),
        text(out.title_sv),
        text(out.title_en),
        text(out.summary_sv),
        text(out.summary_en),
        text(out.description),
        text("; ".join(out.municipalities)),
        text("; ".join(out.categories)),
        out.status,
        out.start_date.isoformat() if out.start_date else "",
        out.end_date.isoformat() if out.end_date else "",
        text(out.contact),
        text("; ".join(out.partners)),
        text("; ".join(links)),
        "true" if out.testbed else "false",
        text("; ".join(out.tags)),
        "true" if out.public else "false",
        repr(first[0]) if first else "",
        repr(first[1]) if first else "",
        wkt_dumps(out.geometry) if out.geometry else "",
        out.updated_at.isoformat(),
    ]


def write_csv(outs: Iterable[ProjectOut], delimiter: str = ",") -> bytes:
    """CSV in UTF-8 with a BOM (so Excel reads å, ä, ö), one row per project.

    ``lon``/``lat`` give the first position of the first geometry (for spreadsheets and
    quick maps); ``wkt`` gives the whole geometry and is what an import reads first.
    Text cells starting with ``= + - @`` are prefixed with ``'``.
    """
    buf = StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for out in outs:
        writer.writerow(_csv_values(out))
    return b"\xef\xbb\xbf" + buf.getvalue().encode()


# -- importing -------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import found (dry run) or did (real run): rows, errors, created ids."""

    format: Format
    dry_run: bool
    rows_read: int
    errors: list[RowError]
    would_create: list[dict[str, Any]]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "rows_read": self.rows_read,
            "valid": len(self.would_create) + len(self.skipped),
            "invalid": self.invalid,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
            "would_create": self.would_create,
            "skipped": self.skipped,
            "created": self.created,
            "ignored_columns": self.ignored_columns,
            "warnings": self.warnings,
        }


def _summary(row: ParsedRow) -> dict[str, Any]:
    p = row.project
    return {
        "row": row.row,
        "title_sv": p.title_sv,
        "municipalities": p.municipalities,
        "status": p.status,
        "public": p.public,
    }


def _existing_titles(db: Session, codes: Iterable[str]) -> set[tuple[str, str]]:
    query = (
        select(ProjectMunicipality.municipality_code, Project.title_sv)
        .join(Project, Project.id == ProjectMunicipality.project_id)
        .where(ProjectMunicipality.municipality_code.in_(sorted(set(codes))))
    )
    return {(code, title.casefold()) for code, title in db.execute(query)}


def run_import(
    db: Session,
    principal: Principal,
    data: bytes,
    *,
    dry_run: bool = True,
    skip_existing: bool = False,
) -> ImportReport:
    """Check (``dry_run``) or import a CSV, GeoJSON or XLSX file as ``principal``.

    Every row is checked first: its fields, then whether ``principal`` may create a
    project for its municipalities. A real run creates nothing unless every row is valid,
    and then creates them all through :func:`~layers.catalogue.service.create_project`
    in one transaction: all or nothing. ``skip_existing`` leaves out rows whose title a
    project of the same municipality already has (so a re-run is idempotent).
    """
    parsed = parse(data, load_reference(db))
    errors = list(parsed.errors)
    rows: list[ParsedRow] = []
    for row in parsed.valid:
        codes = row.project.municipalities
        if can(principal, Action.CREATE, new_municipalities=codes):
            rows.append(row)
        else:
            message = f"you may not create projects for {', '.join(codes)}"
            errors.append(RowError(row.row, "municipalities", message))
    skipped: list[ParsedRow] = []
    if skip_existing:
        have = _existing_titles(db, (c for r in rows for c in r.project.municipalities))
        keep: list[ParsedRow] = []
        for row in rows:
            title = row.project.title_sv.casefold()
            known = any((c, title) in have for c in row.project.municipalities)
            (skipped if known else keep).append(row)
        rows = keep
    report = ImportReport(
        format=parsed.format,
        dry_run=dry_run,
        rows_read=parsed.rows_read,
        errors=sorted(errors, key=lambda e: e.row),
        would_create=[_summary(r) for r in rows],
        skipped=[_summary(r) for r in skipped],
        ignored_columns=parsed.ignored_columns,
        warnings=parsed.warnings,
    )
    if dry_run or errors or not rows:
        return report
    created: list[Project] = []
    try:
        for row in rows:
            try:
                created.append(service.create_project(db, principal, row.project, commit=False))
            except CatalogueError as exc:
                report.errors.append(RowError(row.row, exc.field, exc.message))
        if report.errors:
            db.rollback()
            return report
        db.flush()
        report.created = [p.id for p in created]
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return report
