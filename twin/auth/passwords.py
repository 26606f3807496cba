"""Password hashing with argon2id (argon2-cffi), with a length cap and a dummy hash.

- Parameters: argon2-cffi's defaults, RFC 9106's "low memory" profile (argon2id,
  t=3, m=64 MiB, p=4, 16-byte salt, 32-byte hash): about 0.1 s per hash on one core.
- Passwords are 10 to 1,024 characters. A longer one is refused before any hashing, so
  a megabyte "password" costs nothing (the HTTP layer refuses big bodies earlier still).
- Logins for unknown accounts (or accounts without a password) verify against a dummy
  hash, so the response time does not tell which email addresses have accounts.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import InvalidPassword

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher = PasswordHasher()
_dummy: dict[int, str] = {}


def hasher() -> PasswordHasher:
    """The hasher in use (tests swap in a cheap one through ``use_hasher``)."""
    return _hasher


def use_hasher(new: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (for tests); returns the previous one."""
    global _hasher
    old, _hasher = _hasher, new
    return old


def check_policy(password: str) -> None:
    """Raise :class:`InvalidPassword` unless ``password`` may be set as a new password."""
    if len(password) > MAX_LENGTH:
        raise InvalidPassword(f"a password has at most {MAX_LENGTH} characters")
    if len(password) < MIN_LENGTH:
        raise InvalidPassword(f"a password has at least {MIN_LENGTH} characters")
    if not password.strip():
        raise InvalidPassword("a password cannot be only spaces")


def hash_password(password: str) -> str:
    """The argon2id hash of a new password (checked against the policy first)."""
    check_policy(password)
    return _hasher.hash(password)


def _dummy_hash() -> str:
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash("dummy password for unknown accounts")
    return _dummy[key]


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash, spend the same time."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        if stored is None:
            _hasher.verify(_dummy_hash(), password)
            return False
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than the current hasher's."""
    try:
        return _hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
