"""OGC API Features (``/ogc``) and the catalogue's exports and imports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ogc"])
