"""The full permission matrix through the HTTP API: role × action × owner × visibility.

The expectations are written out by hand below, not derived from ``rules.can``: this
table *is* the specification. Columns are the owning municipalities (A, B, or the joint
A+B) and the project's visibility (pub = public, int = internal). For the reading
actions ``+`` means "the project is visible to this role", ``-`` that it is not (and
then it must be missing from lists, searches and counts, and 404 on get).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import A, B, Env, project_in

ROLES = ("anonymous", "no_role", "editor_a", "editor_b", "gis_a", "admin")
CELLS = (("A", "pub"), ("A", "int"), ("B", "pub"), ("B", "int"), ("AB", "pub"), ("AB", "int"))
OWNERS = {"A": (A,), "B": (B,), "AB": (A, B)}

MATRIX = """
action    role       A/pub A/int B/pub B/int AB/pub AB/int
see       anonymous  +     -     +     -     +      -
see       no_role    +     -     +     -     +      -
see       editor_a   +     +     +     -     +      +
see       editor_b   +     -     +     +     +      +
see       gis_a      +     +     +     -     +      +
see       admin      +     +     +     +     +      +
internal  anonymous  -     -     -     -     -      -
internal  no_role    -     -     -     -     -      -
internal  editor_a   +     +     -     -     +      +
internal  editor_b   -     -     +     +     +      +
internal  gis_a      +     +     -     -     +      +
internal  admin      +     +     +     +     +      +
create    anonymous  401   401   401   401   401    401
create    no_role    403   403   403   403   403    403
create    editor_a   201   201   403   403   201    201
create    editor_b   403   403   201   201   201    201
create    gis_a      403   403   403   403   403    403
create    admin      201   201   201   201   201    201
update    anonymous  401   401   401   401   401    401
update    no_role    403   404   403   404   403    404
update    editor_a   200   200   403   404   200    200
update    editor_b   403   404   200   200   200    200
update    gis_a      403   403   403   404   403    403
update    admin      200   200   200   200   200    200
review    anonymous  401   401   401   401   401    401
review    no_role    403   404   403   404   403    404
review    editor_a   200   200   403   404   200    200
review    editor_b   403   404   200   200   200    200
review    gis_a      403   403   403   404   403    403
review    admin      200   200   200   200   200    200
delete    anonymous  401   401   401   401   401    401
delete    no_role    403   404   403   404   403    404
delete    editor_a   204   204   403   404   403    403
delete    editor_b   403   404   204   204   403    403
delete    gis_a      403   403   403   404   403    403
delete    admin      204   204   204   204   204    204
history   anonymous  401   401   401   401   401    401
history   no_role    403   404   403   404   403    404
history   editor_a   200   200   403   404   200    200
history   editor_b   403   404   200   200   200    200
history   gis_a      200   200   403   404   200    200
history   admin      200   200   200   200   200    200
"""


def _table() -> dict[tuple[str, str, str, str], str]:
    out: dict[tuple[str, str, str, str], str] = {}
    for line in MATRIX.strip().splitlines()[1:]:
        action, role, *values = line.split()
        assert len(values) == len(CELLS), line
        for (owner, vis), value in zip(CELLS, values, strict=True):
            out[action, role, owner, vis] = value
    return out


EXPECT = _table()


def test_the_table_is_complete() -> None:
    for action in ("see", "internal", "create", "update", "review", "delete", "history"):
        for role in ROLES:
            for owner, vis in CELLS:
                assert (action, role, owner, vis) in EXPECT


def _tag(owner: str, vis: str) -> str:
    return f"matrixcell{owner}{vis}".lower()


def _make_cells(env: Env) -> dict[tuple[str, str], int]:
    """One project per cell, with a unique word to search for."""
    ids = {}
    for owner, vis in CELLS:
        p = env.make(owners=OWNERS[owner], public=vis == "pub", tags=[_tag(owner, vis)])
        ids[owner, vis] = p.id
    return ids


def _check(wrong: list[str]) -> None:
    assert not wrong, "cells differing from the table:\n" + "\n".join(wrong)


READS = ("get", "list", "search", "count")


@pytest.mark.parametrize("action", READS)
def test_reading(env: Env, action: str) -> None:
    ids = _make_cells(env)
    wrong: list[str] = []
    for role in ROLES:
        h = env.auth(role)
        listed: dict[int, dict[str, Any]] = {}
        if action == "list":
            r = env.client.get("/api/projects", params={"limit": 500}, headers=h)
            assert r.status_code == 200
            listed = {p["id"]: p for p in r.json()["items"]}
            visible_total = sum(EXPECT["see", role, o, v] == "+" for o, v in CELLS)
            if r.json()["total"] != visible_total:
                wrong.append(f"list {role}: total {r.json()['total']} != {visible_total}")
        if action == "count":
            _check_overview(env, role, wrong)
        for (owner, vis), pid in ids.items():
            visible = EXPECT["see", role, owner, vis] == "+"
            internal = EXPECT["internal", role, owner, vis] == "+"
            item: dict[str, Any] | None = None
            if action == "get":
                r = env.client.get(f"/api/projects/{pid}", headers=h)
                if r.status_code != (200 if visible else 404):
                    wrong.append(f"get {role} {owner}/{vis}: {r.status_code}")
                item = r.json() if r.status_code == 200 else None
            elif action == "list":
                item = listed.get(pid)
                if (item is not None) != visible:
                    wrong.append(f"list {role} {owner}/{vis}: listed={item is not None}")
            elif action == "search":
                r = env.client.get("/api/projects", params={"q": _tag(owner, vis)}, headers=h)
                found = [p["id"] for p in r.json()["items"]]
                if found != ([pid] if visible else []):
                    wrong.append(f"search {role} {owner}/{vis}: found {found}")
                item = r.json()["items"][0] if found else None
            else:
                r = env.client.get("/api/projects", params={"q": _tag(owner, vis)}, headers=h)
                if r.json()["total"] != int(visible):
                    wrong.append(f"count {role} {owner}/{vis}: total {r.json()['total']}")
            if item is not None:
                shown = item["contact"] is not None, item["created_by"] is not None
                if shown != (internal, internal):
                    wrong.append(f"{action} {role} {owner}/{vis}: internal fields {shown}")
    _check(wrong)


def _check_overview(env: Env, role: str, wrong: list[str]) -> None:
    r = env.client.get("/api/catalogue/overview", headers=env.auth(role))
    assert r.status_code == 200
    o = r.json()
    seen = [(ow, v) for ow, v in CELLS if EXPECT["see", role, ow, v] == "+"]
    if o["total"] != len(seen) or o["by_status"]["ongoing"] != len(seen):
        wrong.append(f"overview {role}: total {o['total']} != {len(seen)}")
    per = {m["code"]: m for m in o["municipalities"]}
    for code, letter in ((A, "A"), (B, "B")):
        n = sum(letter in ow for ow, _ in seen)
        if per[code]["total"] != n or per[code]["by_status"]["ongoing"] != n:
            wrong.append(f"overview {role} {letter}: {per[code]['total']} != {n}")


@pytest.mark.parametrize("action", ["create", "update", "review", "delete", "history"])
def test_acting(env: Env, action: str) -> None:
    wrong: list[str] = []
    for role in ROLES:
        h = env.auth(role)
        for owner, vis in CELLS:
            want = int(EXPECT[action, role, owner, vis])
            body = project_in(
                title_sv="Ändrad", municipalities=list(OWNERS[owner]), public=vis == "pub"
            )
            if action == "create":
                r = env.client.post("/api/projects", json=body, headers=h)
                got = r.status_code
                if got == 201 and env.get(r.json()["id"]) is None:
                    wrong.append(f"create {role} {owner}/{vis}: 201 but not stored")
            else:
                pid = env.make(owners=OWNERS[owner], public=vis == "pub").id
                url = f"/api/projects/{pid}"
                if action == "update":
                    r = env.client.put(url, json=body, headers={**h, "If-Match": '"1"'})
                elif action == "review":
                    r = env.client.post(f"{url}/review", headers=h)
                elif action == "delete":
                    r = env.client.delete(url, headers={**h, "If-Match": '"1"'})
                else:
                    r = env.client.get(f"{url}/history", headers=h)
                got = r.status_code
                _check_effect(env, action, pid, got, f"{action} {role} {owner}/{vis}", wrong)
            if got != want:
                wrong.append(f"{action} {role} {owner}/{vis}: {got}, expected {want}")
    _check(wrong)


def _check_effect(env: Env, action: str, pid: int, status: int, cell: str, out: list[str]) -> None:
    """What a refused request left behind (nothing) and what an accepted one did."""
    p = env.get(pid)
    if action == "delete":
        if (p is None) != (status == 204):
            out.append(f"{cell}: deleted={p is None} with status {status}")
        return
    assert p is not None
    changed = action in ("update", "review") and status == 200
    if p.version != (2 if changed else 1):
        out.append(f"{cell}: version {p.version} after status {status}")
    if action == "update" and (p.title_sv == "Ändrad") != changed:
        out.append(f"{cell}: title {p.title_sv!r} after status {status}")
