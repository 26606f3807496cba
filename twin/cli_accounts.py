"""`twin` subcommands for the accounts (registered by :mod:`twin.cli`).

- ``twin users add EMAIL --role admin|editor|gis [--municipality CODE] [--password-stdin]``
  creates the account, or adds the role to an existing one (its password is then kept).
- ``twin users list``, ``twin users passwd EMAIL --password-stdin``,
  ``twin users reset-link EMAIL`` (prints a one-time ``/reset#...`` path).
- ``twin tokens create EMAIL [--name N]`` prints only the token, for scripts;
  ``twin tokens revoke EMAIL --all``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts import User

from .auth import service
from .auth.passwords import MAX_LENGTH
from .db import Database
from .errors import InvalidPassword, InvalidRequest
from .settings import Settings

#: The subcommand names this module handles.
COMMANDS: frozenset[str] = frozenset({"users", "tokens"})


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to the `twin` parser."""
    users = sub.add_parser("users", help="manage accounts and roles")
    u = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = u.add_parser("add", help="create an account, or add a role to an existing one")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=["admin", "editor", "gis"])
    add.add_argument("--municipality", help="municipality code (for editor and gis), e.g. 1283")
    add.add_argument("--name", help="display name of a new account")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line"
    )
    u.add_parser("list", help="list accounts and their roles")
    pw = u.add_parser("passwd", help="set a password (revokes sessions and tokens)")
    pw.add_argument("email")
    pw.add_argument("--password-stdin", action="store_true", required=True)
    rl = u.add_parser("reset-link", help="print a one-time password reset link path")
    rl.add_argument("email")

    tokens = sub.add_parser("tokens", help="API tokens for scripts")
    t = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = t.add_parser("create", help="create an API token and print it (shown once)")
    create.add_argument("email")
    create.add_argument("--name", help="what the token is for")
    revoke = t.add_parser("revoke", help="revoke API tokens")
    revoke.add_argument("email")
    revoke.add_argument("--all", action="store_true", required=True, help="every token")


def read_password() -> str:
    """The first line of stdin, without its line ending; never echoed."""
    line = sys.stdin.readline(MAX_LENGTH + 2)
    password = line.removesuffix("\n").removesuffix("\r")
    if len(password) > MAX_LENGTH:
        raise InvalidPassword(f"a password has at most {MAX_LENGTH} characters")
    if not password:
        raise InvalidPassword("no password on stdin")
    return password


@contextmanager
def _db(settings: Settings) -> Iterator[Session]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database)
    try:
        db.setup()
        with db.session() as session:
            yield session
    finally:
        db.dispose()


def _describe(user: User) -> str:
    roles = [f"{role}@{code}" for code, names in service.roles_of(user).items() for role in names]
    if user.is_admin:
        roles.insert(0, "admin")
    state = "active" if user.active else "inactive"
    return f"{user.email}\t{','.join(roles) or '-'}\t{state}"


def _users_add(db: Session, args: argparse.Namespace) -> None:
    if args.role != "admin" and not args.municipality:
        raise InvalidRequest(f"the role {args.role!r} needs --municipality CODE")
    password = read_password() if args.password_stdin else None
    user = service.find_user(db, args.email)
    if user is None:
        roles = {args.municipality: [args.role]} if args.role != "admin" else {}
        user = service.create_user(
            db,
            args.email,
            password=password,
            display_name=args.name,
            is_admin=args.role == "admin",
            roles=roles,
        )
        print(f"created {_describe(user)}")
        if password is None:
            print("no password set: give one with `twin users passwd` or a reset link")
        return
    added = service.add_role(db, user, args.role, args.municipality)
    print(f"{'added role to' if added else 'unchanged:'} {_describe(user)}")
    if password is not None:
        print(
            "the account exists: its password is unchanged (use `twin users passwd`)",
            file=sys.stderr,
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    with _db(settings) as db:
        if args.command == "users":
            if args.action == "add":
                _users_add(db, args)
            elif args.action == "list":
                for user in db.scalars(select(User).order_by(User.email)):
                    print(_describe(user))
            elif args.action == "passwd":
                user = service.require_user(db, args.email)
                service.set_password(db, user, read_password())
                print(f"password set for {user.email}; its sessions and tokens are revoked")
            elif args.action == "reset-link":
                user = service.require_user(db, args.email)
                raw, row = service.issue_reset(db, user, None)
                print(f"/reset#{raw}")
                print(
                    f"valid once, until {service.aware(row.expires_at):%Y-%m-%d %H:%M} UTC",
                    file=sys.stderr,
                )
        elif args.command == "tokens":
            user = service.require_user(db, args.email)
            if args.action == "create":
                if not user.active:
                    raise InvalidRequest(f"{user.email} is deactivated")
                raw, _ = service.create_token(db, user, args.name)
                print(raw)
            elif args.action == "revoke":
                n = service.revoke_tokens(db, user)
                print(f"revoked {n} token(s) of {user.email}", file=sys.stderr)
    return 0
