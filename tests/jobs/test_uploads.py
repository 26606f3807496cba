"""Every upload row of HOSTILE_INPUTS.md that reaches the upload stage: a clear 4xx with
its code, nothing queued and nothing left in staging. (Rows about a file's content,
e.g. external entities in CityGML or NaN coordinates, are the readers' and are tested
with them; through a job they end ``failed`` with the reader's code.)"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from twin.jobs.models import ImportJob
from twin.settings import Settings
from twin.store import Store

from .conftest import DEMO, drain, upload

CITY = DEMO.read_bytes()


def _zip(
    entries: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _patch_central(data: bytes, offset: int, value: bytes) -> bytes:
    """Change a field of the first central directory header (what zipfile reads)."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + value + data[at + len(value) :]


def _symlink() -> bytes:
    info = zipfile.ZipInfo("link.city.json")
    info.external_attr = 0o120777 << 16
    return _zip([(info, b"/etc/passwd")])


def _duplicate() -> bytes:
    with pytest.warns(UserWarning, match="Duplicate name"):
        return _zip([("a.json", b"1"), ("a.json", b"2")])


def _nul_name() -> bytes:
    """zipfile will not write a NUL in a name: patch it into both headers."""
    return _zip([("a#.city.json", CITY)]).replace(b"a#.city.json", b"a\x00.city.json")


def _encrypted() -> bytes:
    data = _zip([("delft.city.json", CITY)])
    flags = int.from_bytes(data[data.index(b"PK\x01\x02") + 8 :][:2], "little") | 0x1
    return _patch_central(data, 8, flags.to_bytes(2, "little"))


def _unknown_method() -> bytes:
    return _patch_central(_zip([("delft.city.json", CITY)]), 10, (99).to_bytes(2, "little"))


HOSTILE: list[tuple[str, Callable[[], bytes], int, str]] = [
    ("zip slip", lambda: _zip([("../evil.city.json", CITY)]), 422, "unsafe_path"),
    ("nested zip slip", lambda: _zip([("a/../../evil.json", CITY)]), 422, "unsafe_path"),
    ("absolute path", lambda: _zip([("/etc/evil.city.json", CITY)]), 422, "unsafe_path"),
    ("drive letter", lambda: _zip([("C:/evil.city.json", CITY)]), 422, "unsafe_path"),
    ("backslashes", lambda: _zip([("..\\evil.city.json", CITY)]), 422, "unsafe_path"),
    ("symlink entry", _symlink, 422, "unsafe_path"),
    ("duplicate names", lambda: _duplicate(), 422, "unsafe_path"),
    ("case collision", lambda: _zip([("A.json", b"1"), ("a.json", b"2")]), 422, "unsafe_path"),
    ("NUL in name", lambda: _nul_name(), 422, "unsafe_path"),
    ("control character", lambda: _zip([("a\x1b[2J.json", CITY)]), 422, "unsafe_path"),
    ("encrypted entry", _encrypted, 422, "unsupported_archive"),
    ("unknown compression", _unknown_method, 422, "unsupported_archive"),
    ("not really a zip", lambda: b"PK\x03\x04" + b"\x00" * 100, 422, "unsupported_archive"),
    ("bomb by ratio", lambda: _zip([("zeros.json", b"\x00" * 3_000_000)]), 413, "upload_too_large"),
    (
        "bomb by total size",
        lambda: _zip([(f"{i}.json", CITY) for i in range(7)], zipfile.ZIP_STORED),
        413,
        "upload_too_large",
    ),
    (
        "too many entries",
        lambda: _zip([(f"{i}.txt", b"x") for i in range(60)]),
        413,
        "upload_too_large",
    ),
    ("upload too large", lambda: b"x" * 4_100_000, 413, "upload_too_large"),
    ("no convertible file", lambda: _zip([("readme.txt", b"hello")]), 422, "no_convertible_file"),
    (
        "two convertible files",
        lambda: _zip([("a.city.json", CITY), ("b/b.city.json", CITY)]),
        422,
        "no_convertible_file",
    ),
]


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [pytest.param(m, s, c, id=name) for name, m, s, c in HOSTILE],
)
def test_hostile_upload_is_refused_with_its_code(
    gis: TestClient,
    store: Store,
    settings: Settings,
    make: Callable[[], bytes],
    status: int,
    code: str,
) -> None:
    r = upload(gis, "city", make(), filename="upload.zip")
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    assert body["message"]
    assert "Traceback" not in r.text
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 0
    assert not settings.staging_dir.exists() or not any(settings.staging_dir.iterdir())
    assert not store.root.exists() or not any(store.root.iterdir())


def test_zip_of_a_folder_converts_its_one_city_file(
    gis: TestClient, store: Store, settings: Settings
) -> None:
    data = _zip([("export/", b""), ("export/delft.city.json", CITY), ("export/README.txt", b"hi")])
    r = upload(gis, "city", data, filename="export.zip", auto_publish=True)
    assert r.status_code == 202, r.text
    assert r.json()["source"] == "delft.city.json"
    drain(store, settings)
    assert gis.get(r.json()["urls"]["self"]).json()["state"] == "published"


def test_content_not_format_decides(gis: TestClient, store: Store, settings: Settings) -> None:
    """A file whose content no reader knows is queued and fails with the reader's code."""
    r = upload(gis, "city", b"<html>not a city</html>", filename="city.json")
    assert r.status_code == 202
    drain(store, settings)
    job = gis.get(r.json()["urls"]["self"]).json()
    assert job["state"] == "failed"
    assert job["error"]["code"] == "unsupported_format"
    assert gis.get("/api/layers").json() == []


def test_missing_file_field(gis: TestClient) -> None:
    r = gis.post("/api/layers/city/imports", data={"title": "x"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_request"
