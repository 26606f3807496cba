"""Accounts: login, logout, the current user, tokens, password reset, user admin."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["accounts"])
