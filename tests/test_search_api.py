"""GET /api/search and GET /api/layers/{layer}/objects/{id}: objects, projects, coordinates.

(Named test_search_api.py: tests/catalogue/test_search.py already has the module name
test_search, and the two folders are not packages.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer

from layers.accounts import ApiToken, Role, User
from layers.catalogue import service
from layers.catalogue.rules import Principal
from layers.catalogue.schemas import ProjectIn
from tiles.objects_index import INDEX_NAME
from twin import coordinates
from twin.app import create_app
from twin.auth.deps import token_hash
from twin.settings import Settings
from twin.store import Store

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"
PARTS = REPO / "tests" / "fixtures" / "cityjson" / "building_parts.city.json"
B2 = REPO / "tests" / "fixtures" / "cityjson" / "3dbag_b2.city.json"
A = "1283"  # Helsingborg
SWEREF = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
GEOD = Geod(ellps="WGS84")
KEYS = {
    "kind",
    "title",
    "subtitle",
    "layer",
    "id",
    "project_id",
    "lon",
    "lat",
    "height",
    "radius",
}


def _add_user(settings_db: object, email: str, *, gis_of: str | None = None) -> str:
    """An account with an API token (made in the database: no login flow)."""
    with settings_db.session() as s:  # type: ignore[attr-defined]
        user = User(email=email, display_name=email, is_admin=False)
        if gis_of:
            user.roles = [
                Role(municipality_code=gis_of, role="gis"),
                Role(municipality_code=gis_of, role="editor"),
            ]
        s.add(user)
        s.flush()
        token = f"tok-{email}"
        s.add(ApiToken(user_id=user.id, token_hash=token_hash(token), security_stamp=0))
        s.commit()
    return token


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, str]]:
    """Public `demo` (Delft), internal `secret` of Helsingborg (building parts), and `old`
    (3dbag) whose current version has no index, as a version converted before search."""
    d = tmp_path_factory.mktemp("data")
    store = Store(d)
    store.import_file(DEMO, "demo", title="Delft")
    store.import_file(PARTS, "secret", title="Internt", public=False, owner=A)
    old, _ = store.import_file(B2, "old", title="Gammal")
    (store.version_dir("old", str(old.current)) / INDEX_NAME).unlink()
    app = create_app(Settings(data_dir=d))
    token = _add_user(app.state.db, "gis@example.org", gis_of=A)
    with TestClient(app) as client:
        yield client, d, token


def _search(client: TestClient, q: str, **params: object) -> dict[str, object]:
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"] == q
    for result in body["results"]:
        assert set(result) >= KEYS
    return body


def _demo_row(d: Path, index: int = 0) -> sqlite3.Row:
    path = next((d / "layers" / "demo" / "versions").glob(f"*/{INDEX_NAME}"))
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM objects ORDER BY n LIMIT 1 OFFSET ?", (index,)).fetchone()
    finally:
        con.close()


def test_config_names_the_search_endpoint(env: tuple[TestClient, Path, str]) -> None:
    client, _, _ = env
    api = client.get("/api/config").json()["api"]
    assert api["search"] == "/api/search"
    assert api["object"] == "/api/layers/{layer}/objects/{id}"


def test_an_exact_id_comes_first_with_its_place(env: tuple[TestClient, Path, str]) -> None:
    client, d, _ = env
    row = _demo_row(d, 7)
    body = _search(client, row["id"].upper())
    first = body["results"][0]
    assert first["kind"] == "object"
    assert (first["layer"], first["id"], first["title"]) == ("demo", row["id"], row["id"])
    assert first["subtitle"] == f"{row['type']} · Delft"
    assert first["type"] == row["type"]
    assert first["project_id"] is None
    assert (first["lon"], first["lat"]) == (row["lon"], row["lat"])
    assert first["height"] == pytest.approx((row["height_min"] + row["height_max"]) / 2, abs=1e-3)
    assert first["radius"] >= row["radius"]
    assert 4.3 < first["lon"] < 4.4
    assert 51.9 < first["lat"] < 52.1
    assert body["unindexed_layers"] == ["old"]


def test_words_find_objects_by_attribute_values(env: tuple[TestClient, Path, str]) -> None:
    client, _, _ = env
    body = _search(client, "Bridge", limit=50)
    kinds = {r["kind"] for r in body["results"]}
    assert kinds == {"object"}
    assert len(body["results"]) > 1
    assert all(r["type"] == "Bridge" for r in body["results"])
    # a prefix of a value every Delft object has: the limit holds
    assert len(_search(client, "bestaan", limit=3)["results"]) == 3


def test_the_layers_parameter_restricts_objects(env: tuple[TestClient, Path, str]) -> None:
    client, _, token = env
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/search", params={"q": "Building", "layers": "secret"}, headers=auth)
    assert {x["layer"] for x in r.json()["results"]} == {"secret"}
    r = client.get("/api/search", params={"q": "Building", "layers": "nosuch,demo"}, headers=auth)
    assert {x["layer"] for x in r.json()["results"]} == {"demo"}
    r = client.get("/api/search", params={"q": "Teststadhuis", "layers": ""}, headers=auth)
    assert {x["layer"] for x in r.json()["results"]} == {"secret"}  # empty: every layer


def test_internal_layers_are_searched_only_for_those_allowed(
    env: tuple[TestClient, Path, str],
) -> None:
    client, _, token = env
    anonymous = _search(client, "Teststadhuis")
    assert anonymous["results"] == []
    assert "secret" not in anonymous["unindexed_layers"]
    r = client.get(
        "/api/search", params={"q": "Teststadhuis"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert {x["layer"] for x in r.json()["results"]} == {"secret"}
    # the parts inherit the building's name (the LoD0 building itself is not converted)
    assert {x["id"] for x in r.json()["results"]} == {"NL.TWIN.B1-P1", "NL.TWIN.B1-P2"}
    assert r.headers["cache-control"].startswith("private")
    assert client.get("/api/layers/secret/objects/NL.TWIN.B1-P1").status_code == 404
    ok = client.get(
        "/api/layers/secret/objects/NL.TWIN.B1-P1", headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 200
    assert ok.json()["title"] == "NL.TWIN.B1-P1"


def test_parts_carry_their_parent(env: tuple[TestClient, Path, str]) -> None:
    client, _, token = env
    r = client.get(
        "/api/layers/secret/objects/NL.TWIN.B1-P1", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    assert r.json()["parent_id"] == "NL.TWIN.B1"


def test_object_endpoint_gives_one_result_or_404(env: tuple[TestClient, Path, str]) -> None:
    client, d, _ = env
    row = _demo_row(d, 3)
    r = client.get(f"/api/layers/demo/objects/{row['id']}")
    assert r.status_code == 200
    assert r.json()["id"] == row["id"]
    assert r.json()["kind"] == "object"
    assert r.json() == _search(client, row["id"])["results"][0]
    missing = client.get("/api/layers/demo/objects/no-such-object")
    assert missing.status_code == 404
    assert missing.json()["code"] == "object_not_found"
    assert client.get("/api/layers/nosuch/objects/x").status_code == 404
    assert client.get("/api/layers/demo/objects/a%2Fb%00c").status_code == 404
    old = client.get("/api/layers/old/objects/NL.IMBAG.Pand.0503100000019435-0")
    assert old.status_code == 404
    assert "import it again" in old.json()["message"]


@pytest.mark.parametrize(
    ("q", "status"),
    [
        ("", 422),
        ("   ", 422),
        ("x" * 201, 422),
        ("x" * 10_000, 422),
        ("a\x00b", 422),
        ("tab\there", 422),
        ('"', 200),
        ('"AND" OR NOT NEAR(a b)', 200),
        ("*", 200),
        ("id:x ^y", 200),
        ("'; DROP TABLE objects; --", 200),
        ("%_%", 200),
        ("x" * 200, 200),
        ("ö" * 200, 200),
    ],
)
def test_hostile_queries_never_fail(env: tuple[TestClient, Path, str], q: str, status: int) -> None:
    client, _, _ = env
    r = client.get("/api/search", params={"q": q})
    assert r.status_code == status, r.text
    if status == 422:
        assert r.json()["code"] == "invalid_query"
        assert r.json()["field"] == "q"


def test_missing_q_and_bad_limits_are_422(env: tuple[TestClient, Path, str]) -> None:
    client, _, _ = env
    assert client.get("/api/search").json()["field"] == "q"
    for limit in (0, 51, -1):
        r = client.get("/api/search", params={"q": "a", "limit": limit})
        assert r.status_code == 422
        assert r.json()["field"] == "limit"
    r = client.get("/api/search", params={"q": "a", "kinds": "object,planet"})
    assert r.status_code == 422
    assert r.json()["field"] == "kinds"


def test_a_coordinate_comes_first_and_is_where_pyproj_says(
    env: tuple[TestClient, Path, str],
) -> None:
    client, _, _ = env
    body = _search(client, "6163000 373000")
    first = body["results"][0]
    lon, lat = SWEREF.transform(373000, 6163000)
    assert first["kind"] == "coordinate"
    assert first["subtitle"] == "SWEREF 99 TM"
    assert first["title"] == "N 6163000, E 373000"
    assert (first["lon"], first["lat"]) == (
        pytest.approx(lon, abs=1e-9),
        pytest.approx(lat, abs=1e-9),
    )
    assert (first["height"], first["radius"], first["layer"], first["id"]) == (0, 0, None, None)
    only = _search(client, "55.68N 13.40E", kinds="coordinate")
    assert [r["title"] for r in only["results"]] == ["55.680000° N, 13.400000° E"]


# -- coordinates -----------------------------------------------------------------------


def _sweref(n: float, e: float) -> tuple[float, float]:
    lon, lat = SWEREF.transform(e, n)
    return lon, lat


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6163000 373000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("373000 6163000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("6163000, 373000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("6163000,373000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("6163000;373000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("N 6163000 E 373000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("E 373000, N 6163000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("6163000N 373000E", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("n: 6163000 e: 373000", [("SWEREF 99 TM", _sweref(6163000, 373000))]),
        ("6163000,5 373000,25", [("SWEREF 99 TM", _sweref(6163000.5, 373000.25))]),
        ("6163000.5; 373000.25", [("SWEREF 99 TM", _sweref(6163000.5, 373000.25))]),
        ("7590000 900000", [("SWEREF 99 TM", _sweref(7590000, 900000))]),  # Haparanda
        ("55.68, 13.40", [("WGS 84", (13.40, 55.68)), ("WGS 84", (55.68, 13.40))]),
        ("55.68 13.40", [("WGS 84", (13.40, 55.68)), ("WGS 84", (55.68, 13.40))]),
        ("13.40, 55.68", [("WGS 84", (13.40, 55.68)), ("WGS 84", (55.68, 13.40))]),  # Sweden first
        ("55.68,13.40", [("WGS 84", (13.40, 55.68)), ("WGS 84", (55.68, 13.40))]),
        ("55,68 13,40", [("WGS 84", (13.40, 55.68)), ("WGS 84", (55.68, 13.40))]),
        ("55,68; 13,40", [("WGS 84", (13.40, 55.68)), ("WGS 84", (55.68, 13.40))]),
        ("55.68N 13.40E", [("WGS 84", (13.40, 55.68))]),
        ("55.68 N, 13.40 E", [("WGS 84", (13.40, 55.68))]),
        ("13.40E 55.68N", [("WGS 84", (13.40, 55.68))]),
        ("N55.68 E13.40", [("WGS 84", (13.40, 55.68))]),
        ("55.68N 13.40Ö", [("WGS 84", (13.40, 55.68))]),
        ("55,68N 13,40E", [("WGS 84", (13.40, 55.68))]),
        ("33.9S 151.2E", [("WGS 84", (151.2, -33.9))]),
        ("40.7N 74.0W", [("WGS 84", (-74.0, 40.7))]),
        ("40.7N 74.0V", [("WGS 84", (-74.0, 40.7))]),
        ("-33.9, 151.2", [("WGS 84", (151.2, -33.9))]),
        ("55°41'N 13°24'E", [("WGS 84", (13.40, 55 + 41 / 60))]),
        ("55°41'12\"N 13°24'36\"E", [("WGS 84", (13.41, 55 + 41 / 60 + 12 / 3600))]),
        ("55° 41′ 12″ N, 13° 24′ 36″ E", [("WGS 84", (13.41, 55 + 41 / 60 + 12 / 3600))]),
        ("13°24'E 55°41'N", [("WGS 84", (13.40, 55 + 41 / 60))]),
        ("N 55°41.5' E 13°24'", [("WGS 84", (13.40, 55 + 41.5 / 60))]),
        ("55d41m12sN 13d24m36sE", [("WGS 84", (13.41, 55 + 41 / 60 + 12 / 3600))]),
        ("55°N 13°E", [("WGS 84", (13.0, 55.0))]),
    ],
)
def test_coordinate_forms(text: str, expected: list[tuple[str, tuple[float, float]]]) -> None:
    got = coordinates.parse(text)
    assert [r.crs for r in got] == [crs for crs, _ in expected]
    for r, (_, (lon, lat)) in zip(got, expected, strict=True):
        _, _, dist = GEOD.inv(lon, lat, r.lon, r.lat)
        assert dist < 0.001, (text, r)


@pytest.mark.parametrize(
    "text",
    [
        "6163000 133000",  # easting outside 250 000-950 000
        "5000000 500000",  # northing south of Sweden
        "7800000 500000",  # north of Sweden
        "6163000N 373000N",
        "6163000E 373000N",  # letters say the other axes
        "7700000 950000",  # inside the number ranges, east of Sweden's box (lon 26.3)
        "7690000 250000",  # ... west of it (lon 8.7)
        "55.68N 13.40N",
        "55.68E 13.40E",
        "95.5, 190.0",
        "55°61'N 13°E",  # minutes >= 60
        "55°41'61\"N 13°E",
        "55.5°30'N 13°E",
        "-55.68N 13.40E",  # a sign and a letter
        "55 13",  # whole numbers without letters are words
        "55,68",
        "12",
        "Storgatan 12",
        "Malmö",
        "1e300 5",
        "nan nan",
        "inf, inf",
        "55.68 13.40 12.0",
        "55.68; 13.40; 1",
        "",
        "°'\"",
        "5" * 100,
        "55.68 " + "1" * 200,
    ],
)
def test_not_coordinates(text: str) -> None:
    assert coordinates.parse(text) == []


def test_both_readings_are_offered_when_both_are_valid() -> None:
    got = coordinates.parse("59.33, 18.07")
    assert [(round(r.lat, 2), round(r.lon, 2)) for r in got] == [(59.33, 18.07), (18.07, 59.33)]
    assert got[0].title == "59.330000° N, 18.070000° E"
    assert got[1].title == "18.070000° N, 59.330000° E"


# -- projects (SQLite and PostgreSQL) -------------------------------------------------


@pytest.fixture
def catalogue(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))
    token = _add_user(app.state.db, "editor@example.org", gis_of=A)
    admin = Principal(user_id=None, is_admin=True)
    base = {"municipalities": [A], "categories": ["mobility"], "status": "ongoing"}
    projects = [
        {
            "title_sv": "Smarta parkeringssensorer",
            "summary_sv": "Lediga platser",
            "public": True,
            "geometries": [{"type": "Point", "coordinates": [12.70, 56.05, 12.5]}],
        },
        {
            "title_sv": "Hemlig parkering",
            "summary_sv": "Internt",
            "public": False,
            "geometries": [{"type": "Point", "coordinates": [12.71, 56.04]}],
        },
        {
            "title_sv": "Cykelvägar",
            "summary_sv": "Parkering för cyklar vid stationen",
            "public": True,
            "geometries": [{"type": "LineString", "coordinates": [[12.69, 56.04], [12.71, 56.06]]}],
        },
        {"title_sv": "Parkering utan plats", "summary_sv": "", "public": True, "geometries": []},
    ]
    with app.state.db.session() as s:
        for p in projects:
            service.create_project(s, admin, ProjectIn.model_validate({**base, **p}))
    with TestClient(app) as client:
        yield client, token


def test_projects_are_found_by_title_then_text_and_never_internal_ones_anonymously(
    catalogue: tuple[TestClient, str],
) -> None:
    client, token = catalogue
    body = _search(client, "parkering")
    titles = [r["title"] for r in body["results"]]
    # title matches first; the place-less project has nowhere to go; internal: hidden
    assert titles == ["Smarta parkeringssensorer", "Cykelvägar"]
    assert all(r["kind"] == "project" for r in body["results"])
    pin = body["results"][0]
    assert (pin["lon"], pin["lat"], pin["height"], pin["radius"]) == (12.70, 56.05, 12.5, 0)
    assert isinstance(pin["project_id"], int)
    assert pin["layer"] is None
    assert pin["id"] is None
    assert pin["subtitle"] == "Lediga platser"
    line = body["results"][1]
    assert (line["lon"], line["lat"]) == (pytest.approx(12.70), pytest.approx(56.05))
    _, _, diagonal = GEOD.inv(12.69, 56.04, 12.71, 56.06)
    assert line["radius"] == pytest.approx(diagonal / 2, abs=0.01)
    assert _search(client, "hemlig")["results"] == []

    r = client.get(
        "/api/search", params={"q": "parkering"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert [x["title"] for x in r.json()["results"]] == [
        "Hemlig parkering",
        "Smarta parkeringssensorer",
        "Cykelvägar",
    ]
    # without diacritics: the title match still ranks first
    assert [r["title"] for r in _search(client, "CYKELVAGAR")["results"]] == ["Cykelvägar"]
    assert [r["title"] for r in _search(client, "vägar parkering")["results"]] == ["Cykelvägar"]
    projects_only = _search(client, "parkering", kinds="object,coordinate")
    assert projects_only["results"] == []
