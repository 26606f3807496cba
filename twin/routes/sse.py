"""Server-sent events: the one way routes format events and answer with a stream
(the import jobs' progress and the live sensor values use it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse

#: Sent first: how long a browser's EventSource waits before reconnecting (ms).
RETRY = "retry: 2000\n\n"
#: A comment line: keeps proxies from closing an idle stream and finds dead clients.
HEARTBEAT = ": heartbeat\n\n"


def event(data: str, *, event_id: int | str | None = None, name: str | None = None) -> str:
    """One event; ``data`` is one line (JSON has no raw newlines)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    head += f"event: {name}\n" if name else ""
    return f"{head}data: {data}\n\n"


def response(events: AsyncIterator[str]) -> StreamingResponse:
    """A ``text/event-stream`` response that proxies neither cache nor buffer."""
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
