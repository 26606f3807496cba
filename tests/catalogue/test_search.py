"""Search and filters: full text, %/_ taken literally, filters, bbox, sort allow-list,
pagination."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import A, B, Env

POINT_HBG = {"type": "Point", "coordinates": [12.70, 56.05]}
LINE_HOG = {"type": "LineString", "coordinates": [[12.55, 56.19, 10.0], [12.60, 56.22, 12.5]]}
POLY_LAND = {
    "type": "Polygon",
    "coordinates": [[[12.80, 55.85], [12.90, 55.85], [12.90, 55.90], [12.80, 55.85]]],
}


@pytest.fixture
def ids(env: Env) -> dict[str, int]:
    made = {
        "parking": env.make(
            owners=(A,),
            title_sv="Smart parkering i Helsingborg",
            summary_sv="100% täckning av centrum",
            tags=["iot"],
            categories=["mobility"],
            status="ongoing",
            start_date="2024-01-01",
            end_date="2024-12-31",
            geometries=[POINT_HBG],
        ),
        "water": env.make(
            owners=(B,),
            title_sv="Vattenmätare Åby",
            summary_sv="Läckage_larm för ÖSTRA delen",
            description="Mäter flöde",
            tags=["vatten"],
            categories=["water"],
            status="planned",
            start_date="2025-03-01",
            end_date=None,
            geometries=[LINE_HOG],
        ),
        "bikes": env.make(
            owners=(A, B),
            title_sv="Cykelräknare",
            summary_sv="Räknar cyklar",
            tags=["iot", "cykel"],
            categories=["mobility", "environment"],
            status="completed",
            start_date=None,
            end_date="2023-06-30",
            geometries=[POINT_HBG, POLY_LAND],
        ),
        "internal": env.make(
            owners=(A,),
            public=False,
            title_sv="Intern pilot",
            tags=["iot"],
            status="idea",
            start_date=None,
            end_date=None,
            geometries=[],
        ),
    }
    return {k: p.id for k, p in made.items()}


def _search(env: Env, who: str = "anonymous", **params: Any) -> tuple[list[int], int]:
    r = env.client.get("/api/projects", params=params, headers=env.auth(who))
    assert r.status_code == 200, r.text
    body = r.json()
    return [p["id"] for p in body["items"]], body["total"]


def _names(ids: dict[str, int], found: list[int]) -> set[str]:
    back = {v: k for k, v in ids.items()}
    return {back[i] for i in found}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("parkering", {"parking"}),
        ("PARKERING helsingborg", {"parking"}),
        ("åby", {"water"}),
        ("ÖSTRA", {"water"}),
        ("flöde", {"water"}),
        # without diacritics or case, as typed on a keyboard without å, ä, ö
        ("aby", {"water"}),
        ("flode ostra", {"water"}),
        ("LACKAGE", {"water"}),
        ("tackning", {"parking"}),
        ("ÅBY", {"water"}),
        ("a\u0308byx", set()),  # a decomposed "ä" folds to "a"; "abyx" is in no project
        ("iot", {"parking", "bikes"}),
        ("100%", {"parking"}),
        ("%", {"parking"}),
        ("_", {"water"}),
        ("läckage_larm", {"water"}),
        ("läckage%larm", set()),
        ("l_ckage", set()),
        ("\\", set()),
        ("' OR 1=1 --", set()),
        ("nothing-matches-this", set()),
    ],
)
def test_text_search(env: Env, ids: dict[str, int], q: str, expected: set[str]) -> None:
    found, total = _search(env, q=q)
    assert _names(ids, found) == expected
    assert total == len(expected)


def test_text_search_sees_internal_only_with_rights(env: Env, ids: dict[str, int]) -> None:
    assert _names(ids, _search(env, q="iot")[0]) == {"parking", "bikes"}
    assert _names(ids, _search(env, "editor_a", q="iot")[0]) == {"parking", "bikes", "internal"}
    assert _names(ids, _search(env, "editor_b", q="iot")[0]) == {"parking", "bikes"}
    # the contact is not searchable
    assert _search(env, "admin", q="anna@example.org") == ([], 0)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"municipality": A}, {"parking", "bikes"}),
        ({"municipality": [A, B]}, {"parking", "water", "bikes"}),
        ({"municipality": "1283' OR '1'='1"}, set()),
        ({"category": "mobility"}, {"parking", "bikes"}),
        ({"category": ["water", "environment"]}, {"water", "bikes"}),
        ({"status": "planned"}, {"water"}),
        ({"status": ["ongoing", "completed"]}, {"parking", "bikes"}),
        ({"date_from": "2024-06-01", "date_to": "2024-06-30"}, {"parking"}),
        ({"date_from": "2025-01-01"}, {"water"}),
        ({"date_to": "2023-12-31"}, {"bikes"}),
        ({"date_from": "2023-06-30", "date_to": "2023-06-30"}, {"bikes"}),
        ({"bbox": "12.6,56.0,12.8,56.1"}, {"parking", "bikes"}),
        ({"bbox": "12.58,56.20,12.59,56.21"}, {"water"}),  # inside the line's extent
        ({"bbox": "12.85,55.86,12.86,55.87"}, {"bikes"}),  # the polygon of a joint project
        ({"bbox": "0,0,1,1"}, set()),
        ({"public": "true"}, {"parking", "water", "bikes"}),
        ({"public": "false"}, set()),
        ({"municipality": A, "status": "ongoing", "q": "smart"}, {"parking"}),
    ],
)
def test_filters(env: Env, ids: dict[str, int], params: dict[str, Any], expected: set) -> None:
    found, total = _search(env, **params)
    assert _names(ids, found) == expected
    assert total == len(expected)


def test_internal_filter_for_staff(env: Env, ids: dict[str, int]) -> None:
    assert _names(ids, _search(env, "editor_a", public="false")[0]) == {"internal"}


BAD_PARAMETERS: list[dict[str, Any]] = [
    {"sort": "password_hash"},
    {"sort": "title; DROP TABLE project"},
    {"sort": "--title"},
    {"sort": "id"},
    {"limit": 0},
    {"limit": 501},
    {"offset": -1},
    {"status": "secret"},
    {"bbox": "1,2,3"},
    {"bbox": "a,b,c,d"},
    {"bbox": "13,56,12,57"},
    {"bbox": "nan,0,1,1"},
    {"bbox": "0,0,1,inf"},
    {"bbox": "-200,0,1,1"},
    {"date_from": "2024-02-30"},
    {"date_from": "2025-01-01", "date_to": "2024-01-01"},
    {"q": "x" * 201},
    {"q": "nul\x00"},
    {"municipality": "12\x0083"},
]


def test_bad_parameters_are_422(env: Env) -> None:
    wrong = []
    for params in BAD_PARAMETERS:
        r = env.client.get("/api/projects", params=params)
        if r.status_code != 422 or "detail" not in r.json():
            wrong.append(f"{params}: {r.status_code} {r.text[:200]}")
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["bikes", "parking", "water"]),
        ("-title", ["water", "parking", "bikes"]),
        ("status", ["bikes", "parking", "water"]),
        ("start_date", ["parking", "water", "bikes"]),  # no start date: last either way
        ("-start_date", ["water", "parking", "bikes"]),
        ("created_at", ["parking", "water", "bikes"]),
        ("-created_at", ["bikes", "water", "parking"]),
    ],
)
def test_sorting(env: Env, ids: dict[str, int], sort: str, expected: list[str]) -> None:
    found, _ = _search(env, sort=sort)
    back = {v: k for k, v in ids.items()}
    assert [back[i] for i in found] == expected


def test_pagination_keeps_the_total(env: Env) -> None:
    made = [env.make(title_sv=f"Projekt {i:02d}", tags=["sida"]).id for i in range(13)]
    pages = []
    for offset in range(0, 15, 5):
        found, total = _search(env, q="sida", sort="title", limit=5, offset=offset)
        assert total == 13
        pages.append(found)
    assert [len(p) for p in pages] == [5, 5, 3]
    assert [i for p in pages for i in p] == made
    r = env.client.get("/api/projects", params={"q": "sida", "limit": 5, "offset": 100})
    assert r.json() == {"items": [], "total": 13, "limit": 5, "offset": 100}


def test_search_text_is_folded_by_migration_0004(database_url: str, env: Env) -> None:
    """Rows written before 0004 hold lower-cased text; 0004 refolds them (and its
    downgrade puts the lower-cased text back), so old projects are found without accents."""
    from alembic import command
    from sqlalchemy import text

    from twin.db import alembic_config

    made = env.make(
        title_sv="Vattenmätare Åby",
        summary_sv="Läcker i ÖSTRA delen",
        description="Mäter",
        tags=["Flöde"],
    )

    def stored() -> str:
        with env.db.engine.connect() as c:
            return c.execute(
                text("SELECT search_text FROM project WHERE id = :id"), {"id": made.id}
            ).scalar_one()

    assert stored() == "vattenmatare aby\n\nlacker i ostra delen\n\nmater\nflode"
    cfg = alembic_config(database_url)
    command.downgrade(cfg, "0003")
    assert stored() == "vattenmätare åby\n\nläcker i östra delen\n\nmäter\nflöde"
    env.db.engine.dispose()
    command.upgrade(cfg, "head")
    assert stored() == "vattenmatare aby\n\nlacker i ostra delen\n\nmater\nflode"
    assert _search(env, q="ostra aby")[0] == [made.id]
