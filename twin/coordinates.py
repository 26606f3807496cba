"""Coordinates typed into the search box: SWEREF 99 TM and WGS 84, in the forms people paste.

- SWEREF 99 TM (EPSG:3006): a northing 6 100 000–7 700 000 and an easting 250 000–950 000,
  in either order, with or without ``N``/``E`` letters: ``6163000 373000``,
  ``E 373000, N 6163000``, ``6163000,5; 373000,5``. Offered only when the point lies in
  the CRS's area of use (Sweden) plus :data:`MARGIN_DEG`.
- WGS 84 decimal degrees, latitude first unless letters say otherwise: ``55.68, 13.40``,
  ``55.68N 13.40E``, ``13.40E 55.68N``, ``N 55.68 E 13.40``, decimal comma ``55,68 13,40``;
  degrees-minutes-seconds ``55°41'N 13°24'E`` (also ``′ ″``, ``d m s``). Swedish ``Ö``/``V``
  work as ``E``/``W``. Without letters both axis orders are offered when both are valid,
  the one inside Sweden first. Without letters, decimal degrees need decimals
  (``55 13`` is searched as text, not offered as a place).

Nothing here raises: text that is not a coordinate gives no reading.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS, Transformer

SWEREF = "EPSG:3006"
NORTHING = (6_100_000.0, 7_700_000.0)
EASTING = (250_000.0, 950_000.0)
#: Degrees added around EPSG:3006's area of use (Sweden, onshore and offshore).
MARGIN_DEG = 0.5
MAX_LENGTH = 80

_NUM = r"[+-]?\d{1,8}(?:[.,]\d{1,12})?"
_LETTER = r"[NSEWÖV]"
_PART = re.compile(
    rf"""^(?P<pre>{_LETTER})?\s*[:=]?\s*
    (?P<deg>{_NUM})\s*(?P<degsign>°|º|d|deg)?\s*
    (?:(?P<min>\d{{1,2}}(?:[.,]\d{{1,12}})?)\s*(?:'|′|’|m|min)\s*)?
    (?:(?P<sec>\d{{1,2}}(?:[.,]\d{{1,12}})?)\s*(?:"|″|”|''|′′|s|sek|sec)\s*)?
    (?P<post>{_LETTER})?$""",
    re.IGNORECASE | re.VERBOSE,
)
_LAT_LETTERS = {"N": 1, "S": -1}
_LON_LETTERS = {"E": 1, "Ö": 1, "W": -1, "V": -1}


@dataclass(frozen=True)
class Reading:
    """One interpretation of the text: where it is and how to write it."""

    crs: str  # "SWEREF 99 TM" or "WGS 84"
    title: str
    lon: float
    lat: float


@dataclass(frozen=True)
class _Part:
    value: float
    axis: str | None  # "lat", "lon" or None (no letter)
    dms: bool
    decimal_comma: bool
    text: str


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _part(text: str) -> _Part | None:
    m = _PART.match(text.strip())
    if m is None:
        return None
    pre, post = m.group("pre"), m.group("post")
    if pre and post:
        return None
    letter = (pre or post or "").upper()
    sign = 1
    axis = None
    if letter in _LAT_LETTERS:
        axis, sign = "lat", _LAT_LETTERS[letter]
    elif letter in _LON_LETTERS:
        axis, sign = "lon", _LON_LETTERS[letter]
    deg_text = m.group("deg")
    if letter and deg_text[0] in "+-":
        return None  # a sign and a hemisphere letter: which one is meant?
    value = _number(deg_text)
    dms = bool(m.group("min") or m.group("sec"))
    if dms:
        if not re.fullmatch(r"[+-]?\d+", deg_text):
            return None  # 55.5°30' is no coordinate
        minutes = _number(m.group("min") or "0")
        seconds = _number(m.group("sec") or "0")
        if minutes >= 60 or seconds >= 60 or (m.group("sec") and not m.group("min")):
            return None
        value = math.copysign(abs(value) + minutes / 60 + seconds / 3600, value)
    comma = "," in deg_text or "," in (m.group("min") or "") or "," in (m.group("sec") or "")
    if not math.isfinite(value):
        return None
    return _Part(sign * value, axis, dms, comma, text.strip())


def _split(text: str) -> list[tuple[str, str]]:
    """Ways to cut ``text`` into two parts, with the separator used."""
    cuts: list[tuple[str, str]] = []
    if text.count(";") == 1:
        a, b = text.split(";")
        return [(a, b)]
    if ";" in text:
        return []
    for m in re.finditer(r"\s*,\s*|\s+", text):
        a, b = text[: m.start()], text[m.end() :]
        if a.strip() and b.strip():
            cuts.append((a, b))
    return cuts


def _pairs(text: str) -> list[tuple[_Part, _Part]]:
    out: list[tuple[_Part, _Part]] = []
    for a_text, b_text in _split(text):
        a, b = _part(a_text), _part(b_text)
        if a is None or b is None:
            continue
        sep = text[len(a_text) : len(text) - len(b_text)]
        if sep == "," and not _bare_comma_ok(a, b):
            continue
        out.append((a, b))
    return out


def _bare_comma_ok(a: _Part, b: _Part) -> bool:
    """``55.68,13.40`` and ``6163000,373000`` are pairs; ``55,68`` is one number."""
    if a.decimal_comma or b.decimal_comma:
        return False
    if a.axis or b.axis or a.dms or b.dms:
        return True
    digits = [p.text.lstrip("+-").split(".")[0] for p in (a, b)]
    return "." in a.text + b.text or all(len(d) >= 5 for d in digits)


@lru_cache(maxsize=1)
def _sweref() -> tuple[Transformer, tuple[float, float, float, float]]:
    crs = CRS.from_user_input(SWEREF)
    area = crs.area_of_use
    assert area is not None
    box = (
        area.west - MARGIN_DEG,
        area.south - MARGIN_DEG,
        area.east + MARGIN_DEG,
        area.north + MARGIN_DEG,
    )
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True), box


def _metres(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


def _sweref_reading(a: _Part, b: _Part) -> Reading | None:
    if a.dms or b.dms:
        return None
    for north, east in ((a, b), (b, a)):
        if north.axis == "lon" or east.axis == "lat":
            continue
        if north.value < 0 or east.value < 0:
            continue
        if NORTHING[0] <= north.value <= NORTHING[1] and EASTING[0] <= east.value <= EASTING[1]:
            transformer, (west, south, east_lim, north_lim) = _sweref()
            lon, lat = transformer.transform(east.value, north.value)
            if not (west <= lon <= east_lim and south <= lat <= north_lim):
                return None
            title = f"N {_metres(north.value)}, E {_metres(east.value)}"
            return Reading("SWEREF 99 TM", title, float(lon), float(lat))
    return None


def _in_sweden(lon: float, lat: float) -> bool:
    _, (west, south, east, north) = _sweref()
    return west <= lon <= east and south <= lat <= north


def _wgs84_title(lat: float, lon: float) -> str:
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.6f}° {ns}, {abs(lon):.6f}° {ew}"


def _wgs84_readings(a: _Part, b: _Part) -> list[Reading]:
    orders: list[tuple[_Part, _Part]]
    if a.axis or b.axis:
        if a.axis == b.axis:
            return []
        lat_first = a.axis == "lat" or b.axis == "lon"
        orders = [(a, b)] if lat_first else [(b, a)]
    elif a.dms or b.dms or "." in a.text + b.text or a.decimal_comma or b.decimal_comma:
        orders = [(a, b), (b, a)]
    else:
        return []  # "12 34" is more likely a search for numbers than a place
    out: list[Reading] = []
    for lat_p, lon_p in orders:
        lat, lon = lat_p.value, lon_p.value
        if abs(lat) <= 90 and abs(lon) <= 180:
            out.append(Reading("WGS 84", _wgs84_title(lat, lon), lon, lat))
    if len(out) == 2:
        if out[0].lon == out[1].lon and out[0].lat == out[1].lat:
            out = out[:1]
        elif _in_sweden(out[1].lon, out[1].lat) and not _in_sweden(out[0].lon, out[0].lat):
            out.reverse()
    return out


def parse(text: str) -> list[Reading]:
    """Every reading of ``text`` as a coordinate pair (none when it is not one)."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH or not any(c.isdigit() for c in text):
        return []
    readings: list[Reading] = []
    for a, b in _pairs(text):
        sweref = _sweref_reading(a, b)
        found = [sweref] if sweref is not None else _wgs84_readings(a, b)
        for r in found:
            if r not in readings:
                readings.append(r)
    return readings
