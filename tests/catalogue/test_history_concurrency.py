"""Optimistic concurrency (nothing silently lost) and the history (who changed what, when)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import A, B, Env, project_in
from sqlalchemy import select

from layers.catalogue import service
from layers.catalogue.errors import VersionConflict
from layers.catalogue.models import ProjectHistory
from layers.catalogue.schemas import ProjectIn


def test_second_editor_saving_an_old_version_gets_a_conflict(env: Env) -> None:
    p = env.make(owners=(A, B))
    url = f"/api/projects/{p.id}"
    first = env.client.get(url, headers=env.auth("editor_a"))
    second = env.client.get(url, headers=env.auth("editor_b"))
    assert first.headers["etag"] == second.headers["etag"] == '"1"'

    mine = project_in(municipalities=[A, B], title_sv="Första redaktörens titel")
    r = env.client.put(url, json=mine, headers={**env.auth("editor_a"), "If-Match": '"1"'})
    assert r.status_code == 200
    assert r.json()["version"] == 2

    theirs = project_in(municipalities=[A, B], summary_sv="Andra redaktörens sammanfattning")
    r = env.client.put(url, json=theirs, headers={**env.auth("editor_b"), "If-Match": '"1"'})
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"
    assert r.json()["current_version"] == 2
    assert r.headers["etag"] == '"2"'
    assert "version 2" in r.json()["message"]

    now = env.client.get(url, headers=env.auth("admin")).json()
    assert now["version"] == 2
    assert now["title_sv"] == "Första redaktörens titel"
    assert now["summary_sv"] == "Sensorer visar lediga platser"

    # after reloading, the second editor's save goes through
    r = env.client.put(url, json=theirs, headers={**env.auth("editor_b"), "If-Match": '"2"'})
    assert r.status_code == 200
    assert r.json()["version"] == 3


def test_a_concurrent_save_between_read_and_write_is_a_conflict(env: Env) -> None:
    """The database checks the version too (StaleDataError): a save that passed the
    in-memory check but lost the race is refused and rolled back."""
    p = env.make()
    editor = env.principals["editor_a"]
    with env.db.session() as slow, env.db.session() as fast:
        stale = service.get_project(slow, editor, p.id)  # read version 1, then pause
        assert stale.version == 1
        service.update_project(
            fast, editor, p.id, ProjectIn.model_validate(project_in(title_sv="Snabb")), 1
        )
        with pytest.raises(VersionConflict) as err:
            service.update_project(
                slow, editor, p.id, ProjectIn.model_validate(project_in(title_sv="Långsam")), 1
            )
        assert err.value.current_version == 2
    saved = env.get(p.id)
    assert saved is not None
    assert (saved.title_sv, saved.version) == ("Snabb", 2)
    with env.db.session() as s:
        rows = s.scalars(select(ProjectHistory).where(ProjectHistory.project_id == p.id)).all()
        assert [(h.version, h.action) for h in rows] == [(1, "create"), (2, "update")]


def test_parallel_saves_of_one_version_one_wins(env: Env) -> None:
    p = env.make()
    url = f"/api/projects/{p.id}"

    def save(i: int) -> int:
        body = project_in(title_sv=f"Titel {i}")
        r = env.client.put(url, json=body, headers={**env.auth("editor_a"), "If-Match": '"1"'})
        return r.status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(save, range(6)))
    assert statuses == [200] + [409] * 5
    saved = env.get(p.id)
    assert saved is not None
    assert saved.version == 2


def test_delete_of_an_old_version_is_a_conflict(env: Env) -> None:
    p = env.make()
    url = f"/api/projects/{p.id}"
    env.client.post(f"{url}/review", headers=env.auth("editor_a"))
    r = env.client.delete(url, headers={**env.auth("editor_a"), "If-Match": '"1"'})
    assert r.status_code == 409
    assert r.json()["current_version"] == 2
    assert env.get(p.id) is not None


def test_history_says_who_changed_what_when(env: Env) -> None:
    c = env.client
    r = c.post("/api/projects", json=project_in(), headers=env.auth("editor_a"))
    pid = r.json()["id"]
    url = f"/api/projects/{pid}"
    body = project_in(status="completed", tags=["parkering"], contact=None)
    assert c.put(url, json=body, headers={**env.auth("editor_a"), "If-Match": '"1"'}).is_success
    assert c.post(f"{url}/review", headers=env.auth("gis_a")).status_code == 403
    assert c.post(f"{url}/review", headers=env.auth("admin")).is_success

    hist = c.get(f"{url}/history", headers=env.auth("gis_a")).json()
    assert [(h["version"], h["action"]) for h in hist] == [
        (3, "review"),
        (2, "update"),
        (1, "create"),
    ]
    review, update, create = hist
    assert review["changed_by"] == env.user_ids["admin"]
    assert set(review["changes"]) == {"last_reviewed_at"}
    assert update["changed_by"] == env.user_ids["editor_a"]
    assert update["changes"] == {
        "status": ["ongoing", "completed"],
        "tags": [["parkering", "iot"], ["parkering"]],
        "contact": ["Anna Andersson, anna@example.org", None],
    }
    assert create["changes"]["title_sv"] == "Smarta parkeringssensorer"
    assert create["changes"]["municipalities"] == [A]
    assert create["changed_at"] <= update["changed_at"] <= review["changed_at"]

    assert c.delete(url, headers={**env.auth("editor_a"), "If-Match": '"3"'}).status_code == 204
    with env.db.session() as s:
        rows = s.scalars(
            select(ProjectHistory)
            .where(ProjectHistory.project_id == pid)
            .order_by(ProjectHistory.id)
        ).all()
        assert [r.action for r in rows] == ["create", "update", "review", "delete"]
        assert rows[-1].changes["status"] == "completed"
        assert rows[-1].changed_by == env.user_ids["editor_a"]


def test_a_new_project_never_takes_a_deleted_projects_id(env: Env) -> None:
    """SQLite reuses the largest rowid after a delete; the history would mix."""
    p = env.make()
    r = env.client.delete(f"/api/projects/{p.id}", headers={**env.auth("admin"), "If-Match": '"1"'})
    assert r.status_code == 204
    q = env.make()
    assert q.id > p.id
    hist = env.client.get(f"/api/projects/{q.id}/history", headers=env.auth("admin")).json()
    assert [h["action"] for h in hist] == ["create"]
