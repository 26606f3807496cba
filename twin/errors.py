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


class InvalidQuery(InvalidRequest):
    """A query parameter the route cannot use (the response names it in ``field``)."""

    code = "invalid_query"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ObjectNotFound(NotFound):
    """No such object in the layer's current version, or the version has no object index."""

    code = "object_not_found"


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


# --- imports (jobs, uploads, versions) ---


class UnsafePath(InvalidRequest):
    """An archive entry name that could escape the upload folder or collide with another."""

    code = "unsafe_path"


class UnsupportedArchive(InvalidRequest):
    """Encrypted entries or a compression method twin does not read."""

    code = "unsupported_archive"


class UploadTooLarge(PayloadTooLarge):
    """The upload, an archive's entries, their total size or ratio passed a limit."""

    code = "upload_too_large"


class NoConvertibleFile(InvalidRequest):
    """The upload holds no file twin reads, or several (then it cannot choose)."""

    code = "no_convertible_file"


class JobNotFound(NotFound):
    code = "job_not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class JobFailed(TwinError):
    """A synchronous import (``twin import``) ended failed: the job's code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
