"""Who may see and change datastreams: every sensor permission decision is made here.

In the style of :mod:`layers.catalogue.rules`, with the same :class:`Principal`:

- Anonymous visitors (and accounts without a role in the owning organisation) see public
  datastreams only: in the list, the detail, the observations and the live stream. An
  internal datastream does not exist for them (404, never 403).
- Staff of the owning organisation (editor or gis) see its internal datastreams.
- Editors of the owning organisation create datastreams for it and edit them.
- Administrators may do everything, including managing ingest sources.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, or_, true

from ..catalogue.rules import Principal
from .models import Datastream


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"


def can(principal: Principal, action: Action, *, organisation: str, public: bool = False) -> bool:
    """Whether ``principal`` may take ``action`` on a datastream of ``organisation``."""
    if principal.is_admin:
        return True
    if action is Action.VIEW:
        return public or organisation in principal.staff_of
    return organisation in principal.editor_of


def visible_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the datastreams ``principal`` may see (for list and stream)."""
    if principal.is_admin:
        return true()
    staff = sorted(principal.staff_of)
    if not staff:
        return Datastream.visibility == "public"
    return or_(Datastream.visibility == "public", Datastream.organisation.in_(staff))
