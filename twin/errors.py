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


class NotAuthenticated(TwinError):
    code = "not_authenticated"


class Forbidden(TwinError):
    code = "forbidden"


class CSRFFailed(TwinError):
    code = "csrf_failed"


class NotFound(TwinError):
    code = "not_found"


class Conflict(TwinError):
    """Someone saved a newer version first; nothing was overwritten."""

    code = "conflict"


class RateLimited(TwinError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidRequest(TwinError):
    code = "invalid_request"


# --- accounts ---


class PayloadTooLarge(TwinError):
    """The request body is bigger than the route accepts (counted as it arrives)."""

    code = "payload_too_large"


class InvalidPassword(InvalidRequest):
    code = "invalid_password"


class LoginFailed(NotAuthenticated):
    code = "login_failed"


class InvalidResetLink(NotFound):
    """Unknown, already used or expired: the three look the same from outside."""

    code = "reset_link_invalid"
