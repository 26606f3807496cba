"""Password hashing: parameters, policy, the dummy hash for unknown accounts, rehashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from twin.auth import passwords
from twin.errors import InvalidPassword


def test_production_parameters_are_argon2id_rfc9106() -> None:
    ph = PasswordHasher()  # what the module uses when no test swaps it
    h = ph.hash("x" * 10)
    assert h.startswith("$argon2id$")
    assert ph.type is Type.ID
    assert ph.memory_cost >= 64 * 1024
    assert ph.time_cost >= 2
    assert passwords.MIN_LENGTH == 10
    assert passwords.MAX_LENGTH == 1024


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("x" * 9, False),
        ("x" * 10, True),
        (" " * 12, False),
        ("x" * 1024, True),
        ("x" * 1025, False),
        ("lösenord ☃ 12", True),
    ],
)
def test_policy(password: str, ok: bool) -> None:
    if ok:
        h = passwords.hash_password(password)
        assert passwords.verify_password(h, password)
        assert not passwords.verify_password(h, password + "!")
    else:
        with pytest.raises(InvalidPassword):
            passwords.hash_password(password)


class Counting(PasswordHasher):
    verifies = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # type: ignore[override]
        Counting.verifies += 1
        return super().verify(hash, password)


def test_unknown_accounts_cost_a_verify_and_huge_inputs_cost_nothing() -> None:
    counting = Counting(time_cost=1, memory_cost=1024, parallelism=1)
    old = passwords.use_hasher(counting)
    try:
        Counting.verifies = 0
        assert passwords.verify_password(None, "whatever password") is False
        assert Counting.verifies == 1  # same work as for a real account
        assert passwords.verify_password(None, "dummy password for unknown accounts") is False
        assert passwords.verify_password("not a hash", "whatever password") is False
        Counting.verifies = 0
        assert passwords.verify_password(None, "x" * 10_000) is False
        assert Counting.verifies == 0
    finally:
        passwords.use_hasher(old)


def test_needs_rehash_when_parameters_change() -> None:
    h = passwords.hash_password("x" * 12)
    assert passwords.needs_rehash(h) is False
    old = passwords.use_hasher(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    try:
        assert passwords.needs_rehash(h) is True
        assert passwords.verify_password(h, "x" * 12)  # old hashes still verify
    finally:
        passwords.use_hasher(old)
