"""Errors of the application, each with a stable code; mapped to HTTP statuses in one table."""

from __future__ import annotations


class TwinError(Exception):
    code = "twin_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LayerNotFound(TwinError):
    code = "layer_not_found"


class TileNotFound(TwinError):
    code = "not_found"
