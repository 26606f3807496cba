"""The catalogue's JSON API: projects, municipalities, categories, steward views."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["catalogue"])
