"""Import (dry run, then all or nothing) and export over HTTP and the CLI, on SQLite and
PostgreSQL: row errors with row numbers, permissions per row, hostile uploads, round trips."""

from __future__ import annotations

import csv
import json
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import A, B, Env
from sqlalchemy import func, select

from layers.catalogue import io
from layers.catalogue.models import Project
from layers.catalogue.seed import DEMO_CODE
from twin.cli import main
from twin.cli_catalogue import DEMO_PROJECTS

IMPORT = "/api/projects/import"


def _csv(rows: list[list[Any]], delimiter: str = ";") -> bytes:
    buf = StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return b"\xef\xbb\xbf" + buf.getvalue().encode()


GOOD = _csv(
    [
        ["titel", "kommun", "kategori", "status", "lon", "lat", "publik"],
        ["Import ett", "Helsingborg", "Mobilitet", "pågående", "12,70", "56,05", "ja"],
        ["Import två", "1283", "energy", "planerad", "", "", "nej"],
    ]
)
WITH_BAD_ROWS = _csv(
    [
        ["titel", "kommun", "status", "startdatum"],
        ["Bra", "1283", "idé", "2024-01-01"],
        ["Fel status", "1283", "kanske", ""],
        ["Fel datum", "1283", "idé", "igår"],
    ]
)
A_AND_B = _csv(
    [["titel", "kommun"], ["Min", "1283"], ["Gemensam", "1283; 1284"], ["Deras", "Höganäs"]]
)


def _count(env: Env) -> int:
    with env.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Project)) or 0)


def _titles(env: Env) -> set[str]:
    with env.db.session() as s:
        return set(s.scalars(select(Project.title_sv)))


def _post(env: Env, who: str, data: bytes, dry_run: bool, name: str = "file.csv") -> Any:
    files = {"file": (name, data, "application/octet-stream")}
    params = {"dry_run": str(dry_run).lower()}
    return env.client.post(IMPORT, params=params, files=files, headers=env.auth(who))


# -- import over HTTP ---------------------------------------------------------------------


def test_dry_run_reports_rows_and_creates_nothing(env: Env) -> None:
    r = _post(env, "editor_a", WITH_BAD_ROWS, dry_run=True)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is True
    assert (report["rows_read"], report["valid"], report["invalid"]) == (3, 1, 2)
    assert {(e["row"], e["field"]) for e in report["errors"]} == {(3, "status"), (4, "start_date")}
    assert all(e["message"] for e in report["errors"])
    assert [w["title_sv"] for w in report["would_create"]] == ["Bra"]
    assert report["created"] == []
    assert _count(env) == 0


def test_real_run_creates_exactly_the_rows(env: Env) -> None:
    r = _post(env, "editor_a", GOOD, dry_run=False)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ok"] is True
    assert len(report["created"]) == 2
    assert _titles(env) == {"Import ett", "Import två"}
    one = env.client.get(f"/api/projects/{report['created'][0]}").json()
    assert one["status"] == "ongoing"
    assert one["categories"] == ["mobility"]
    assert one["geometry"]["geometries"] == [{"type": "Point", "coordinates": [12.7, 56.05]}]
    # the internal one is hidden from the public
    assert env.client.get(f"/api/projects/{report['created'][1]}").status_code == 404


def test_real_run_with_an_invalid_row_imports_nothing(env: Env) -> None:
    r = _post(env, "editor_a", WITH_BAD_ROWS, dry_run=False)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import_invalid"
    assert body["report"]["invalid"] == 2
    assert body["report"]["created"] == []
    assert _count(env) == 0


def test_permission_is_checked_per_row(env: Env) -> None:
    report = _post(env, "editor_a", A_AND_B, dry_run=True).json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(4, "municipalities")]
    assert "1284" in report["errors"][0]["message"]
    assert [w["title_sv"] for w in report["would_create"]] == ["Min", "Gemensam"]
    assert _post(env, "editor_a", A_AND_B, dry_run=False).status_code == 422
    assert _count(env) == 0
    assert _post(env, "editor_b", A_AND_B, dry_run=True).json()["invalid"] == 1
    r = _post(env, "admin", A_AND_B, dry_run=False)
    assert r.status_code == 200
    assert len(r.json()["created"]) == 3


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("gis_a", 403), ("no_role", 403)])
def test_only_editors_and_admins_import(env: Env, who: str, status: int) -> None:
    assert _post(env, who, GOOD, dry_run=True).status_code == status
    assert _count(env) == 0


def test_geojson_and_xlsx_uploads_are_detected_by_content(env: Env) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [12.7, 56.05]},
                "properties": {"title_sv": "Från GeoJSON", "municipalities": [A]},
            }
        ],
    }
    r = _post(env, "editor_a", json.dumps(fc).encode(), dry_run=False, name="projects.csv")
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "geojson"
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["Titel", "Kommun", "Status"])
    sheet.append(["Från Excel", 1283, "Avslutad"])
    buf = BytesIO()
    wb.save(buf)
    r = _post(env, "editor_a", buf.getvalue(), dry_run=False, name="noname")
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "xlsx"
    assert _titles(env) == {"Från GeoJSON", "Från Excel"}


def test_hostile_uploads(env: Env) -> None:
    huge = b"titel;kommun\n" + b"x;1283\n" * (io.MAX_BYTES // 7 + 10)
    r = _post(env, "editor_a", huge, dry_run=True)
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"
    # no Content-Length (chunked): the bytes are counted as they arrive
    boundary = "xyzzy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\ntitel;kommun\r\n"
    ).encode()
    chunks = iter([head, *(b"x;1283\n" * 150_000 for _ in range(11)), b"\r\n--xyzzy--\r\n"])
    r = env.client.post(
        IMPORT,
        content=chunks,
        headers={
            **env.auth("editor_a"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status_code == 413
    r = _post(env, "editor_a", b"%PDF-1.7\x00\x01\x02", dry_run=True, name="x.csv")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_format"
    r = _post(env, "editor_a", b"titel;ort\nx;1283\n", dry_run=True)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_import"
    r = env.client.post(IMPORT, content=b"titel;kommun", headers=env.auth("editor_a"))
    assert r.status_code == 415
    r = env.client.post(
        IMPORT, files={"other": ("a.csv", GOOD, "text/csv")}, headers=env.auth("editor_a")
    )
    assert r.status_code == 422
    assert _count(env) == 0


# -- exports ----------------------------------------------------------------------------


@pytest.fixture
def catalogue(env: Env) -> Env:
    env.make((A,), True, title_sv="=cmd|' /C calc'!A0", status="ongoing")
    env.make((A,), True, title_sv="Cykelbanor", status="completed", geometries=[])
    env.make((B,), True, title_sv="Höganäs sensorer", status="ongoing")
    env.make((A,), False, title_sv="Intern A")
    env.make((B,), False, title_sv="Intern B")
    return env


def _geojson_titles(env: Env, who: str, **params: Any) -> set[str]:
    r = env.client.get("/api/projects/export.geojson", params=params, headers=env.auth(who))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    assert "attachment" in r.headers["content-disposition"]
    return {f["properties"]["title_sv"] for f in r.json()["features"]}


def test_geojson_export_shows_what_the_caller_may_see(catalogue: Env) -> None:
    env = catalogue
    public = {"=cmd|' /C calc'!A0", "Cykelbanor", "Höganäs sensorer"}
    assert _geojson_titles(env, "anonymous") == public
    assert _geojson_titles(env, "editor_a") == public | {"Intern A"}
    assert _geojson_titles(env, "admin") == public | {"Intern A", "Intern B"}
    assert _geojson_titles(env, "anonymous", status="completed") == {"Cykelbanor"}
    assert _geojson_titles(env, "anonymous", municipality=B) == {"Höganäs sensorer"}
    assert _geojson_titles(env, "anonymous", q="höganäs") == {"Höganäs sensorer"}
    assert _geojson_titles(env, "editor_a", bbox="12.6,56.0,12.8,56.1") == {
        "=cmd|' /C calc'!A0",
        "Höganäs sensorer",
        "Intern A",
    }
    bad = env.client.get("/api/projects/export.geojson", params={"bbox": "1,2"})
    assert bad.status_code == 422


def test_csv_export_is_excel_safe(catalogue: Env) -> None:
    r = catalogue.client.get("/api/projects/export.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(StringIO(r.content.decode("utf-8-sig"))))
    titles = {row["title_sv"] for row in rows}
    assert titles == {"'=cmd|' /C calc'!A0", "Cykelbanor", "Höganäs sensorer"}
    for row in rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "@"), value
    semi = catalogue.client.get("/api/projects/export.csv", params={"delimiter": "semicolon"})
    assert semi.content.decode("utf-8-sig").splitlines()[0].startswith("id;title_sv;")


@pytest.mark.parametrize("kind", ["csv", "geojson"])
def test_export_then_import_dry_run_is_valid(catalogue: Env, kind: str) -> None:
    env = catalogue
    r = env.client.get(f"/api/projects/export.{kind}", headers=env.auth("admin"))
    report = _post(env, "admin", r.content, dry_run=True).json()
    assert report["format"] == kind
    assert report["errors"] == [], report["errors"]
    assert report["ignored_columns"] == []
    assert len(report["would_create"]) == 5
    titles = {w["title_sv"] for w in report["would_create"]}
    assert "=cmd|' /C calc'!A0" in titles  # the formula guard is taken off again


# -- CLI --------------------------------------------------------------------------------


def test_cli_import_export_and_demo(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWIN_DATABASE_URL", env.settings.database)
    base = ["--data-dir", str(env.data_dir)]
    source = tmp_path / "in.csv"
    source.write_bytes(WITH_BAD_ROWS)
    assert main([*base, "catalogue", "import", str(source), "--as", "editor_a@example.org"]) == 3
    err = capsys.readouterr().err
    assert "row 3: status:" in err
    assert "row 4: start_date:" in err
    assert _count(env) == 0
    source.write_bytes(GOOD)
    argv = [*base, "catalogue", "import", str(source), "--as", "EDITOR_A@example.org"]
    assert main([*argv, "--dry-run"]) == 0
    assert "would create 2" in capsys.readouterr().out
    assert _count(env) == 0
    assert main(argv) == 0
    assert "created 2" in capsys.readouterr().out
    assert main([*base, "catalogue", "import", str(source), "--as", "nobody@example.org"]) == 3

    out = tmp_path / "out.geojson"
    assert main([*base, "catalogue", "export", str(out)]) == 0
    public = {f["properties"]["title_sv"] for f in json.loads(out.read_text())["features"]}
    assert public == {"Import ett"}  # "Import två" is internal
    assert main([*base, "catalogue", "export", str(tmp_path / "x.txt")]) == 3

    assert main([*base, "demo"]) == 0
    assert "created 7" in capsys.readouterr().out
    assert main([*base, "demo"]) == 0
    assert "created 0, 7 skipped" in capsys.readouterr().out
    with env.db.session() as s:
        demo = list(
            s.scalars(
                select(Project).where(Project.municipalities.any(municipality_code=DEMO_CODE))
            )
        )
    assert len(demo) == 7
    assert sum(p.public for p in demo) == 5
    assert all(p.title_sv.startswith("Exempel: ") for p in demo)
    assert all(p.municipality_codes == [DEMO_CODE] for p in demo)
    assert all(p.created_by is None for p in demo)


def test_demo_projects_lie_in_the_demo_city() -> None:
    doc = json.loads(DEMO_PROJECTS.read_text(encoding="utf-8"))
    assert 5 <= len(doc["features"]) <= 8

    def positions(c: Any) -> list[list[float]]:
        return [c] if isinstance(c[0], float) else [p for x in c for p in positions(x)]

    for feature in doc["features"]:
        g = feature["geometry"]
        for member in g.get("geometries", [g]):
            for lon, lat in positions(member["coordinates"]):
                assert 4.3620 <= lon <= 4.3696
                assert 52.0108 <= lat <= 52.0137
        assert feature["properties"]["municipalities"] == [DEMO_CODE]
