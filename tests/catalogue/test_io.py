"""Reading CSV, GeoJSON and XLSX into projects, and writing GeoJSON and CSV (no database)."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, date, datetime
from io import BytesIO, StringIO
from typing import Any

import openpyxl
import pytest

from layers.catalogue import io
from layers.catalogue.schemas import Link, ProjectOut

REF = io.Reference(
    municipalities={"1283": "Helsingborg", "1284": "Höganäs", "DEMO": "Demoorganisation"},
    categories={"mobility": ("Mobilitet", "Mobility"), "energy": ("Energi", "Energy")},
)


def _csv(rows: list[list[Any]], delimiter: str = ",", bom: bool = False) -> bytes:
    buf = StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode()


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _errors(parsed: io.Parsed) -> set[tuple[int, str | None]]:
    return {(e.row, e.field) for e in parsed.errors}


# -- CSV --------------------------------------------------------------------------------


def test_swedish_semicolon_csv_with_bom_maps_aliases_and_words() -> None:
    data = _csv(
        [
            ["Titel", "Kommun", "Kategori", "Status", "Startdatum", "Lon", "Lat", "Publik"],
            [
                "Smarta bänkar",
                "Helsingborg; 1284",
                "Mobilitet",
                "Pågående",
                "2024-05-01",
                "12,70",
                "56,05",
                "ja",
            ],
            ["Solceller", "höganäs", "energy", "idé", "", "", "", "nej"],
        ],
        delimiter=";",
        bom=True,
    )
    parsed = io.parse(data, REF)
    assert parsed.format == "csv"
    assert parsed.errors == []
    assert parsed.rows_read == 2
    first, second = (r.project for r in parsed.valid)
    assert first.title_sv == "Smarta bänkar"
    assert first.municipalities == ["1283", "1284"]
    assert first.categories == ["mobility"]
    assert first.status == "ongoing"
    assert first.start_date == date(2024, 5, 1)
    assert first.geometries == [{"type": "Point", "coordinates": [12.70, 56.05]}]
    assert first.public is True
    assert second.municipalities == ["1284"]
    assert second.status == "idea"
    assert second.geometries == []
    assert second.public is False


def test_comma_csv_with_wkt_lists_and_links() -> None:
    data = _csv(
        [
            ["title_sv", "municipalities", "wkt", "tags", "links", "testbed", "Okänd kolumn"],
            [
                "Linje",
                "1283",
                "GEOMETRYCOLLECTION (POINT (12.7 56.05), LINESTRING (12.7 56.0, 12.8 56.1))",
                "a; b;a",
                "Mer info <https://example.org/x>; https://example.org/y",
                "x",
                "ignored",
            ],
        ]
    )
    parsed = io.parse(data, REF)
    assert parsed.errors == []
    p = parsed.valid[0].project
    assert [g["type"] for g in p.geometries] == ["Point", "LineString"]
    assert p.tags == ["a", "b"]
    assert p.links == [
        Link(title="Mer info", url="https://example.org/x"),
        Link(title="", url="https://example.org/y"),
    ]
    assert p.testbed is True
    assert parsed.ignored_columns == ["Okänd kolumn"]


def test_row_errors_name_row_and_field_and_keep_the_valid_rows() -> None:
    data = _csv(
        [
            ["titel", "kommun", "status", "start_date", "end_date", "lon", "lat", "kategori"],
            ["Bra rad", "1283", "planerad", "", "", "", "", ""],
            ["Fel status", "1283", "kanske", "", "", "", "", ""],
            ["Okänd kommun", "Atlantis", "idea", "", "", "", "", ""],
            ["Fel datum", "1283", "idea", "2024-13-45", "", "", "", ""],
            ["Baklänges", "1283", "idea", "2024-05-01", "2024-01-01", "", "", ""],
            ["Bara lon", "1283", "idea", "", "", "12.7", "", ""],
            ["", "1283", "idea", "", "", "", "", ""],
            ["Fel kategori", "1283", "idea", "", "", "", "", "Rymdfart"],
            ["Utanför", "1283", "idea", "", "", "512000", "6200000", ""],
        ]
    )
    parsed = io.parse(data, REF)
    assert [r.row for r in parsed.valid] == [2]
    assert _errors(parsed) == {
        (3, "status"),
        (4, "municipalities"),
        (5, "start_date"),
        (6, "end_date"),
        (7, "geometry"),
        (8, "title_sv"),
        (9, "categories"),
        (10, "geometry"),
    }
    assert parsed.invalid_rows == [3, 4, 5, 6, 7, 8, 9, 10]
    message = next(e.message for e in parsed.errors if e.row == 10)
    assert "swapped" in message or "projected" in message


def test_windows_1252_csv_is_read_with_a_warning() -> None:
    data = "titel;kommun\nGrön våg;Höganäs\n".encode("cp1252")
    parsed = io.parse(data, REF)
    assert parsed.valid[0].project.title_sv == "Grön våg"
    assert parsed.valid[0].project.municipalities == ["1284"]
    assert any("Windows-1252" in w for w in parsed.warnings)


def test_csv_without_the_required_columns_is_refused() -> None:
    with pytest.raises(io.InvalidImport, match="title"):
        io.parse(_csv([["namnet", "kommun"], ["x", "1283"]]), REF)
    with pytest.raises(io.InvalidImport, match="municipality"):
        io.parse(_csv([["titel", "ort"], ["x", "1283"]]), REF)
    with pytest.raises(io.InvalidImport, match="two columns"):
        io.parse(_csv([["titel", "title_sv", "kommun"], ["x", "y", "1283"]]), REF)
    with pytest.raises(io.InvalidImport, match="no rows"):
        io.parse(_csv([["titel", "kommun"]]), REF)


def test_row_and_size_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "MAX_ROWS", 10)
    rows = [["titel", "kommun"]] + [[f"p{i}", "1283"] for i in range(11)]
    with pytest.raises(io.ImportTooLarge):
        io.parse(_csv(rows), REF)
    with pytest.raises(io.ImportTooLarge):
        io.parse(_xlsx(rows), REF)
    with pytest.raises(io.ImportTooLarge):
        io.parse(b"titel,kommun\n" + b"x" * io.MAX_BYTES, REF)


# -- content detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", io.InvalidImport),
        (b"  \n ", io.InvalidImport),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old xls", io.UnsupportedFormat),
        (b"%PDF-1.7\x00\x00binary", io.UnsupportedFormat),
        ("titel,kommun\n".encode("utf-16"), io.UnsupportedFormat),
        (b"<html><body>hi</body></html>", io.UnsupportedFormat),
        (b"[1, 2, 3]", io.UnsupportedFormat),
    ],
)
def test_content_that_is_not_csv_geojson_or_xlsx_is_refused(
    data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        io.parse(data, REF)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(io.UnsupportedFormat, match="not an XLSX"):
        io.parse(buf.getvalue(), REF)


# -- XLSX -------------------------------------------------------------------------------


def test_xlsx_first_sheet_with_numbers_and_dates() -> None:
    data = _xlsx(
        [
            ["Titel", "Kommun", "Status", "Startdatum", "Longitud", "Latitud", "Testbädd"],
            ["Från Excel", 1283, "Avslutad", datetime(2023, 2, 1), 12.7, 56.05, True],
            [None, None, None, None, None, None, None],
            ["Utan kommun", None, "idea", None, None, None, None],
        ]
    )
    parsed = io.parse(data, REF)
    assert parsed.format == "xlsx"
    p = parsed.valid[0].project
    assert (p.title_sv, p.municipalities, p.status) == ("Från Excel", ["1283"], "completed")
    assert p.start_date == date(2023, 2, 1)
    assert p.testbed is True
    assert p.geometries[0]["coordinates"] == [12.7, 56.05]
    assert _errors(parsed) == {(4, "municipalities")}  # row 3 is empty: skipped


def test_xlsx_bomb_and_dtd_are_refused() -> None:
    good = _xlsx([["titel", "kommun"], ["x", "1283"]])
    src = zipfile.ZipFile(BytesIO(good))

    def rebuilt(extra: dict[str, bytes]) -> bytes:
        buf = BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for info in src.infolist():
                z.writestr(info.filename, extra.pop(info.filename, src.read(info.filename)))
            for name, body in extra.items():
                z.writestr(name, body)
        return buf.getvalue()

    bomb = rebuilt({"xl/padding.xml": b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>"})
    assert len(bomb) < io.MAX_BYTES
    with pytest.raises(io.ImportTooLarge):
        io.parse(bomb, REF)
    laughs = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(io.InvalidImport, match="DTD"):
        io.parse(rebuilt({"xl/sharedStrings.xml": laughs}), REF)


def test_damaged_xlsx_is_a_clear_error() -> None:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<not really/>")
    with pytest.raises(io.InvalidImport, match="XLSX"):
        io.parse(buf.getvalue(), REF)


# -- GeoJSON ----------------------------------------------------------------------------


def _fc(*features: Any, **extra: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra}).encode()


def _feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def test_geojson_properties_and_geometries() -> None:
    gc = {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [12.7, 56.05]},
            {"type": "Point", "coordinates": [12.8, 56.06, 10.0]},
        ],
    }
    data = _fc(
        _feature(gc, titel="Samling", kommun=["1283", "Höganäs"], status="pausad"),
        _feature(None, title_sv="Utan geometri", municipalities="DEMO", public=True, id=99),
        _feature({"type": "Point", "coordinates": [12.7, 56.05]}, title_sv="Punkt"),
        {"type": "NotAFeature"},
    )
    parsed = io.parse(data, REF)
    assert parsed.format == "geojson"
    by_row = {r.row: r.project for r in parsed.valid}
    assert by_row[1].municipalities == ["1283", "1284"]
    assert by_row[1].status == "paused"
    assert len(by_row[1].geometries) == 2
    assert by_row[2].geometries == []
    assert by_row[2].public is True
    assert _errors(parsed) == {(3, "municipalities"), (4, None)}
    assert parsed.ignored_columns == []  # id is an export column: ignored silently


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "FeatureCollection", "features": [',
        b'{"type": "Topology"}',
        b'{"type": "FeatureCollection", "features": {}}',
        b'{"type": "FeatureCollection", "features": []}',
        _fc(crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}}),
        b"{" * 100_000,
    ],
)
def test_unreadable_geojson_is_refused(body: bytes) -> None:
    with pytest.raises(io.InvalidImport):
        io.parse(body, REF)


def test_nan_in_geojson_is_refused() -> None:
    with pytest.raises(io.InvalidImport, match="not a number"):
        io.parse(
            b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 1]}}', REF
        )


def test_bad_geometries_are_row_errors() -> None:
    data = _fc(
        _feature({"type": "Point", "coordinates": [1e300, 1]}, titel="a", kommun="1283"),
        _feature({"type": "Point", "coordinates": [512000, 6200000]}, titel="b", kommun="1283"),
        _feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, titel="c", kommun="1283"),
        _feature({"type": "Circle", "coordinates": [0, 0]}, titel="d", kommun="1283"),
    )
    parsed = io.parse(data, REF)
    assert _errors(parsed) == {(1, "geometry"), (2, "geometry"), (3, "geometry"), (4, "geometry")}


# -- WKT --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "POINT (1 2)",
        "POINT Z (1 2 3)",
        "LINESTRING (1 2, 3 4)",
        "POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))",
        "MULTIPOINT ((1 2), (3 4))",
        "MULTILINESTRING ((1 2, 3 4), (5 6, 7 8))",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))",
        "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (1 2, 3 4))",
    ],
)
def test_wkt_round_trip(text: str) -> None:
    geoms = io.wkt_loads(text)
    again = io.wkt_loads(io.wkt_dumps({"type": "GeometryCollection", "geometries": geoms}))
    assert again == geoms


def test_wkt_variants_and_errors() -> None:
    assert io.wkt_loads("SRID=4326;MULTIPOINT (1 2, 3 4)") == [
        {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}
    ]
    assert io.wkt_loads("GEOMETRYCOLLECTION EMPTY") == []
    for bad in [
        "POINT (1 2",
        "POINT (a b)",
        "CIRCLE (1 2)",
        "POINT (1 2) x",
        "SRID=3006;POINT(1 2)",
    ]:
        with pytest.raises(ValueError, match=r"WKT|SRID"):
            io.wkt_loads(bad)
    with pytest.raises(ValueError, match="deep"):
        io.wkt_loads("GEOMETRYCOLLECTION (" * 10 + "POINT (1 2)" + ")" * 10)


# -- writing ----------------------------------------------------------------------------


def _out(**kw: Any) -> ProjectOut:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields: dict[str, Any] = {
        "id": 7,
        "version": 2,
        "title_sv": '=HYPERLINK("http://evil")',
        "title_en": None,
        "summary_sv": "+46 42 10 50 00",
        "summary_en": None,
        "description": "@SUM(A1)",
        "description_html": "",
        "municipalities": ["1283", "1284"],
        "categories": ["mobility"],
        "status": "ongoing",
        "start_date": date(2024, 1, 1),
        "end_date": None,
        "contact": "-2+3",
        "partners": ["Acme"],
        "links": [Link(title="Info", url="https://example.org/a")],
        "testbed": False,
        "tags": ["a", "b"],
        "geometry": {
            "type": "GeometryCollection",
            "geometries": [{"type": "LineString", "coordinates": [[12.7, 56.05], [12.8, 56.1]]}],
        },
        "bbox": [12.7, 56.05, 12.8, 56.1],
        "public": True,
        "images": [],
        "last_reviewed_at": now,
        "created_at": now,
        "updated_at": now,
    }
    fields.update(kw)
    return ProjectOut(**fields)


def test_csv_export_escapes_formulas_and_starts_with_a_bom() -> None:
    body = io.write_csv([_out()])
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(StringIO(body.decode("utf-8-sig"))))
    row = rows[0]
    assert row["title_sv"] == '\'=HYPERLINK("http://evil")'
    assert row["summary_sv"] == "'+46 42 10 50 00"
    assert row["description"] == "'@SUM(A1)"
    assert row["contact"] == "'-2+3"
    assert (row["lon"], row["lat"]) == ("12.7", "56.05")
    assert row["wkt"].startswith("GEOMETRYCOLLECTION (LINESTRING")
    assert row["links"] == "Info <https://example.org/a>"
    for value in row.values():
        assert value[:1] not in ("=", "+", "@") or value.startswith("'")


def test_csv_export_reads_back_as_the_same_project() -> None:
    out = _out()
    body = io.write_csv([out], delimiter=";")
    parsed = io.parse(body, REF)
    assert parsed.errors == []
    assert parsed.ignored_columns == []
    p = parsed.valid[0].project
    assert p.title_sv == out.title_sv  # the guard ' is taken off again
    assert p.contact == out.contact
    assert p.municipalities == out.municipalities
    assert p.links == out.links
    assert p.geometries == out.geometry["geometries"]  # type: ignore[index]
    assert p.start_date == out.start_date


def test_geojson_export_is_a_feature_collection_that_reads_back() -> None:
    out = _out(title_sv="Vanlig titel", geometry=None, bbox=None)
    doc = json.loads(io.write_geojson([out]))
    assert doc["type"] == "FeatureCollection"
    f = doc["features"][0]
    assert f["id"] == 7
    assert f["geometry"] is None
    assert "bbox" not in f
    assert f["properties"]["municipalities"] == ["1283", "1284"]
    parsed = io.parse(json.dumps(doc).encode(), REF)
    assert parsed.errors == []
    assert parsed.valid[0].project.title_sv == "Vanlig titel"
