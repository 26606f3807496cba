"""Catalogue errors, each with a stable code (mapped to HTTP statuses by the app)."""

from __future__ import annotations


class CatalogueError(Exception):
    code = "catalogue_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ProjectNotFound(CatalogueError):
    """No such project, or one the caller may not see (never tell which)."""

    code = "not_found"


class PermissionDenied(CatalogueError):
    code = "forbidden"


class VersionConflict(CatalogueError):
    """The project changed since the caller read it; nothing was overwritten."""

    code = "conflict"

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class InvalidProject(CatalogueError):
    code = "invalid_project"
