"""Request-body caps counted as the bytes arrive (chunked bodies have no Content-Length).

One mechanism for every route that takes a body: :func:`capped_request` wraps the ASGI
``receive`` so the count covers ``body()``, ``stream()`` and ``form()`` alike, and raises
the caller's error (413 in the app's status table) as soon as ``limit`` is passed.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.types import Message

TooLarge = Callable[[], Exception]


def capped_request(request: Request, limit: int, too_large: TooLarge) -> Request:
    """The same request, its body refused by ``too_large()`` once it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    received = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large()
        return message

    return Request(request.scope, counted)


async def read_body(request: Request, limit: int, too_large: TooLarge) -> None:
    """Read the whole body under the cap and keep it on ``request`` for the route to parse."""
    request._body = await capped_request(request, limit, too_large).body()
