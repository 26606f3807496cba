"""Liveness: the steward view per municipality, one-click "still current", the overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import A, B, Env
from sqlalchemy import update

from layers.catalogue.models import Project


def _age(env: Env, project_id: int, days: int, *, never_reviewed: bool = False) -> None:
    then = datetime.now(UTC) - timedelta(days=days)
    with env.db.session() as s:
        s.execute(
            update(Project)
            .where(Project.id == project_id)
            .values(created_at=then, last_reviewed_at=None if never_reviewed else then)
            .execution_options(synchronize_session=False)
        )
        s.commit()


def test_steward_view_lists_stale_entries_and_review_clears_them(env: Env) -> None:
    old_a = env.make(owners=(A,), title_sv="Gammal A")
    older_internal = env.make(owners=(A,), public=False, title_sv="Äldre intern A")
    joint = env.make(owners=(A, B), title_sv="Gemensam")
    fresh_a = env.make(owners=(A,), title_sv="Färsk A")
    old_b = env.make(owners=(B,), title_sv="Gammal B")
    _age(env, old_a.id, 200)
    _age(env, older_internal.id, 400, never_reviewed=True)
    _age(env, joint.id, 190)
    _age(env, old_b.id, 300)
    _age(env, fresh_a.id, 100)  # under six months

    url = f"/api/municipalities/{A}/stale"
    r = env.client.get(url, headers=env.auth("editor_a"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["months"] == 6
    assert body["total"] == 3
    # least recently reviewed first
    assert [p["id"] for p in body["items"]] == [older_internal.id, old_a.id, joint.id]
    assert all(p["stale"] for p in body["items"])

    assert env.client.get(url, headers=env.auth("gis_a")).status_code == 200
    assert env.client.get(url, headers=env.auth("admin")).json()["total"] == 3
    assert env.client.get(url, headers=env.auth("editor_b")).status_code == 403
    assert env.client.get(url, headers=env.auth("no_role")).status_code == 403
    assert env.client.get(url).status_code == 401
    assert (
        env.client.get("/api/municipalities/0000/stale", headers=env.auth("admin")).status_code
        == 404
    )
    assert (
        env.client.get("/api/municipalities/a'b/stale", headers=env.auth("admin")).status_code
        == 422
    )
    b = env.client.get(f"/api/municipalities/{B}/stale", headers=env.auth("editor_b")).json()
    assert [p["id"] for p in b["items"]] == [old_b.id, joint.id]

    # one click: "still current"
    r = env.client.post(f"/api/projects/{old_a.id}/review", headers=env.auth("editor_a"))
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    out = r.json()
    assert out["version"] == 2
    assert out["stale"] is False
    reviewed = datetime.fromisoformat(out["last_reviewed_at"])
    assert abs(reviewed.replace(tzinfo=reviewed.tzinfo or UTC) - datetime.now(UTC)) < timedelta(
        minutes=1
    )
    body = env.client.get(url, headers=env.auth("editor_a")).json()
    assert [p["id"] for p in body["items"]] == [older_internal.id, joint.id]
    hist = env.client.get(f"/api/projects/{old_a.id}/history", headers=env.auth("gis_a")).json()
    assert hist[0]["action"] == "review"
    assert hist[0]["changed_by"] == env.user_ids["editor_a"]

    # the same list through the search, with another number of months
    r = env.client.get(
        "/api/projects",
        params={"municipality": A, "stale_only": "true", "months": 3},
        headers=env.auth("editor_a"),
    )
    assert r.json()["total"] == 3  # fresh_a (100 days) counts at three months
    r = env.client.get("/api/projects", params={"stale_only": "true"})
    assert {p["id"] for p in r.json()["items"]} == {joint.id, old_b.id}  # public only


def test_overview_counts_per_municipality_and_status(env: Env) -> None:
    env.make(owners=(A,), status="ongoing")
    env.make(owners=(A,), status="idea", public=False)
    env.make(owners=(A, B), status="completed")
    old = env.make(owners=(B,), status="ongoing")
    _age(env, old.id, 365)

    anon = env.client.get("/api/catalogue/overview").json()
    assert anon["total"] == 3
    assert anon["by_status"] == {
        "idea": 0,
        "planned": 0,
        "ongoing": 2,
        "completed": 1,
        "paused": 0,
        "stopped": 0,
    }
    per = {m["code"]: m for m in anon["municipalities"]}
    assert per[A]["total"] == 2
    assert per[A]["by_status"]["idea"] == 0
    assert per[B]["total"] == 2
    assert per[B]["stale"] == 1
    assert per["1214"]["total"] == 0  # every municipality is listed
    assert per[A]["name"] == "Helsingborg"

    staff = env.client.get("/api/catalogue/overview", headers=env.auth("editor_a")).json()
    assert staff["total"] == 4
    assert {m["code"]: m for m in staff["municipalities"]}[A]["by_status"]["idea"] == 1
    other = env.client.get("/api/catalogue/overview", headers=env.auth("editor_b")).json()
    assert other["total"] == 3
