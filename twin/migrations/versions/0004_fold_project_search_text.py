"""project.search_text without case or diacritics, so "malmo" finds "Malmö"

The text search compares folded words with this column
(:func:`layers.catalogue.service.fold`); rows written before this revision hold only the
lower-cased text and are refolded here. The rule is copied rather than imported: a
migration must keep doing what it did when it was written.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 500

project = sa.table(
    "project",
    sa.column("id", sa.Integer),
    sa.column("title_sv", sa.String),
    sa.column("title_en", sa.String),
    sa.column("summary_sv", sa.Text),
    sa.column("summary_en", sa.Text),
    sa.column("description", sa.Text),
    sa.column("tags", sa.JSON),
    sa.column("search_text", sa.Text),
)


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _lowered(text: str) -> str:
    return text.lower()


def _rewrite(form: Callable[[str], str]) -> None:
    """Recompute every project's search_text in ``form``, a batch of rows at a time."""
    bind = op.get_bind()
    last = 0
    while True:
        rows: list[Any] = list(
            bind.execute(
                sa.select(
                    project.c.id,
                    project.c.title_sv,
                    project.c.title_en,
                    project.c.summary_sv,
                    project.c.summary_en,
                    project.c.description,
                    project.c.tags,
                )
                .where(project.c.id > last)
                .order_by(project.c.id)
                .limit(BATCH)
            )
        )
        if not rows:
            return
        for row in rows:
            parts = [row.title_sv, row.title_en, row.summary_sv, row.summary_en, row.description]
            tags = " ".join(str(t) for t in (row.tags or []))
            text = form("\n".join([*(p or "" for p in parts), tags]))
            bind.execute(project.update().where(project.c.id == row.id).values(search_text=text))
        last = rows[-1].id


def upgrade() -> None:
    _rewrite(_folded)


def downgrade() -> None:
    _rewrite(_lowered)
