"""`twin users` and `twin tokens`: the first admin, roles, passwords and tokens for scripts.
On SQLite and PostgreSQL (``TWIN_DATABASE_URL``)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.cli import main
from twin.settings import Settings

from .util import HELSINGBORG, NEW_PASSWORD, PASSWORD, login, me


@dataclass
class Twin:
    """Runs ``twin ARGS`` with ``stdin``; returns (exit code, stdout, stderr)."""

    settings: Settings
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--data-dir", str(self.settings.data_dir), *args])
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def twin(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Twin:
    monkeypatch.setenv("TWIN_DATABASE_URL", database_url)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, viewer_dir=tmp_path / "none"
    )
    return Twin(settings, monkeypatch, capsys)


@pytest.fixture
def web(twin: Twin) -> Iterator[TestClient]:
    app = create_app(twin.settings)
    with TestClient(app) as c:
        yield c
    app.state.db.dispose()


def test_first_admin_then_login(twin: Twin, web: TestClient) -> None:
    code, out, _ = twin(
        "users",
        "add",
        "Root@Example.org",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0
    assert "root@example.org" in out
    assert PASSWORD not in out
    login(web, "root@example.org")
    assert me(web)["is_admin"] is True
    assert web.get("/api/users").status_code == 200


def test_add_role_to_existing_user_keeps_password(twin: Twin, web: TestClient) -> None:
    assert (
        twin(
            "users",
            "add",
            "ed@example.org",
            "--role",
            "editor",
            "--municipality",
            HELSINGBORG,
            "--password-stdin",
            stdin=PASSWORD + "\r\n",
        )[0]
        == 0
    )
    code, out, err = twin(
        "users",
        "add",
        "ed@example.org",
        "--role",
        "gis",
        "--municipality",
        HELSINGBORG,
        "--password-stdin",
        stdin=NEW_PASSWORD + "\n",
    )
    assert code == 0
    assert "unchanged" in err
    login(web, "ed@example.org", PASSWORD)  # CRLF stripped; second password ignored
    assert me(web)["roles"] == {HELSINGBORG: ["editor", "gis"]}
    code, out, _ = twin("users", "list")
    assert out.strip() == f"ed@example.org\teditor@{HELSINGBORG},gis@{HELSINGBORG}\tactive"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("users", "add", "ed@example.org", "--role", "editor", "--password-stdin"),
            PASSWORD,
            "needs --municipality",
        ),
        (
            ("users", "add", "ed@example.org", "--role", "gis", "--municipality", "0000"),
            "",
            "unknown municipality",
        ),
        (
            ("users", "add", "ed@example.org", "--role", "admin", "--password-stdin"),
            "short\n",
            "at least 10",
        ),
        (
            ("users", "add", "ed@example.org", "--role", "admin", "--password-stdin"),
            "",
            "no password",
        ),
        (("users", "add", "not-an-email", "--role", "admin"), "", "not an email"),
        (("tokens", "create", "nobody@example.org"), "", "no account"),
        (("users", "passwd", "nobody@example.org", "--password-stdin"), PASSWORD, "no account"),
    ],
)
def test_refusals_are_one_line_and_exit_3(
    twin: Twin, args: tuple[str, ...], stdin: str, message: str
) -> None:
    code, _out, err = twin(*args, stdin=stdin)
    assert code == 3
    assert err.count("\n") == 1
    assert err.startswith("twin: error: ")
    assert message in err
    assert "Traceback" not in err


def test_token_for_scripts(twin: Twin, web: TestClient) -> None:
    twin("users", "add", "gis@example.org", "--role", "gis", "--municipality", HELSINGBORG)
    code, out, _ = twin("tokens", "create", "gis@example.org", "--name", "nightly")
    assert code == 0
    token = out.strip()
    assert out == token + "\n"  # only the token on stdout
    assert token.startswith("twin_")
    bearer = {"Authorization": f"Bearer {token}"}
    info = me(web, **bearer)
    assert info["user"]["email"] == "gis@example.org"
    assert info["roles"] == {HELSINGBORG: ["gis"]}
    code, _, err = twin("tokens", "revoke", "gis@example.org", "--all")
    assert code == 0
    assert "revoked 1" in err
    assert web.get("/api/auth/me", headers=bearer).status_code == 401


def test_passwd_and_reset_link(twin: Twin, web: TestClient) -> None:
    twin("users", "add", "ed@example.org", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    login(web, "ed@example.org")
    assert twin("users", "passwd", "ed@example.org", "--password-stdin", stdin=NEW_PASSWORD)[0] == 0
    assert me(web) == {"authenticated": False}  # the CLI change revoked the session
    login(web, "ed@example.org", NEW_PASSWORD)
    code, out, _ = twin("users", "reset-link", "ed@example.org")
    assert code == 0
    assert out.startswith("/reset#")
    token = out.strip().split("#", 1)[1]
    r = web.post(f"/api/auth/reset/{token}", json={"password": "third passphrase!"})
    assert r.status_code == 200
    login(web, "ed@example.org", "third passphrase!")
