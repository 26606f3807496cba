"""Who may do what with a project: every catalogue permission decision is made here.

- Anonymous visitors (and accounts without a role in the project's municipalities) see
  public projects only, and only their public fields.
- Staff of a project's municipality (editor or gis) and administrators see internal
  projects of those municipalities and every field.
- Editors create projects that include at least one of their municipalities, and edit or
  mark reviewed any project of their municipalities; a change of municipalities must keep
  one of theirs. Deleting a joint project needs editor rights in all its municipalities.
- Administrators may do everything.
- The steward view of a municipality (its projects not reviewed for a while) is for that
  municipality's staff (editor or gis) and administrators (``Action.STEWARD``, with the
  municipality as the only owner).
- A project's history counts as an internal field (``Action.VIEW_INTERNAL_FIELDS``).
- Reference data (municipalities, categories) is managed by administrators only
  (``Action.MANAGE_REFERENCE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    VIEW = "view"
    VIEW_INTERNAL_FIELDS = "view_internal_fields"
    CREATE = "create"
    UPDATE = "update"
    REVIEW = "review"
    DELETE = "delete"
    STEWARD = "steward"
    MANAGE_REFERENCE = "manage_reference"


#: Fields only staff of the owning municipalities (and admins) see.
INTERNAL_FIELDS = frozenset({"contact", "created_by", "updated_by", "history"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: an account's id and roles, or nobody (anonymous)."""

    user_id: int | None = None
    is_admin: bool = False
    editor_of: frozenset[str] = field(default_factory=frozenset)
    gis_of: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    @property
    def staff_of(self) -> frozenset[str]:
        return self.editor_of | self.gis_of


ANONYMOUS = Principal()


def can(
    principal: Principal,
    action: Action,
    *,
    public: bool = False,
    municipalities: Iterable[str] = (),
    new_municipalities: Iterable[str] | None = None,
) -> bool:
    """Whether ``principal`` may take ``action`` on a project owned by ``municipalities``.

    ``new_municipalities`` is the project's set after an update (or the set a new project
    is created with).
    """
    owners = frozenset(municipalities)
    if principal.is_admin:
        return True
    if action is Action.VIEW:
        return public or bool(principal.staff_of & owners)
    if action in (Action.VIEW_INTERNAL_FIELDS, Action.STEWARD):
        return bool(principal.staff_of & owners)
    if action is Action.CREATE:
        return bool(principal.editor_of & frozenset(new_municipalities or owners))
    if action in (Action.UPDATE, Action.REVIEW):
        if not principal.editor_of & owners:
            return False
        return new_municipalities is None or bool(
            principal.editor_of & frozenset(new_municipalities)
        )
    if action is Action.DELETE:
        return bool(owners) and owners <= principal.editor_of
    return False


def visible_municipalities(principal: Principal) -> frozenset[str] | None:
    """Municipalities whose internal projects ``principal`` may see (None: all of them)."""
    return None if principal.is_admin else principal.staff_of
