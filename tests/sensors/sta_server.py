"""A small SensorThings API server for tests: FastAPI under uvicorn, in a thread.

It answers like a SensorThings 1.1 server (FROST's shapes): collections as ``{"value":
[...], "@iot.nextLink": ...}`` with a server-side page size, ``$filter=phenomenonTime gt
<time>``, ``$orderby=phenomenonTime asc``, ``$top``, ``$skip``. Switches make it misbehave:
``fail`` answers the next N requests with 500, ``slow`` delays answers, and
``foreign_next`` makes one datastream's next link point to another host.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mqttbroker import free_port

PREFIX = "/FROST-Server/v1.1"
_GT = re.compile(r"^phenomenonTime gt (\S+)$")


@dataclass
class StaState:
    base: str = ""
    page_size: int = 2
    datastreams: list[dict[str, Any]] = field(default_factory=list)
    observations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail: int = 0
    slow: float = 0.0
    foreign_next: set[str] = field(default_factory=set)
    #: datastreams whose next link points back to the same page
    looping_next: set[str] = field(default_factory=set)
    #: (monotonic time, path, query, status) of every request
    requests: list[tuple[float, str, dict[str, str], int]] = field(default_factory=list)

    def add(self, ds_id: int | str, obs_id: int, when: str, result: object) -> None:
        self.observations.setdefault(str(ds_id), []).append(
            {"@iot.id": obs_id, "phenomenonTime": when, "resultTime": when, "result": result}
        )

    def observation_requests(self) -> list[tuple[str, dict[str, str]]]:
        return [(p, q) for _, p, q, s in self.requests if p.endswith("/Observations")]


def _page(state: StaState, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    skip = int(request.query_params.get("$skip", "0"))
    top = min(int(request.query_params.get("$top", "100")), state.page_size)
    body: dict[str, Any] = {"value": items[skip : skip + top]}
    if skip + top < len(items):
        query = dict(request.query_params)
        query["$skip"] = str(skip + top)
        query["$top"] = str(top)
        qs = urlencode(query, safe="$(),'@")
        body["@iot.nextLink"] = f"{state.base}{request.url.path[len(PREFIX) :]}?{qs}"
    return body


def make_app(state: StaState) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        if state.slow:
            await asyncio.sleep(state.slow)
        if state.fail > 0:
            state.fail -= 1
            response: Any = JSONResponse({"code": 500, "message": "boom"}, status_code=500)
        else:
            response = await call_next(request)
        path = request.url.path[len(PREFIX) :]
        state.requests.append(
            (time.monotonic(), path, dict(request.query_params), response.status_code)
        )
        return response

    @app.get(PREFIX + "/Datastreams")
    def datastreams(request: Request) -> dict[str, Any]:
        return _page(state, state.datastreams, request)

    @app.get(PREFIX + "/Datastreams({ref})/Observations")
    def observations(ref: str, request: Request) -> dict[str, Any]:
        ds = ref.strip("'").replace("''", "'")
        items = sorted(state.observations.get(ds, []), key=lambda o: o["phenomenonTime"])
        flt = request.query_params.get("$filter")
        if flt:
            m = _GT.match(flt)
            assert m, flt
            after = datetime.fromisoformat(m[1])
            items = [o for o in items if datetime.fromisoformat(o["phenomenonTime"]) > after]
        body = _page(state, items, request)
        if ds in state.foreign_next and "@iot.nextLink" in body:
            body["@iot.nextLink"] = body["@iot.nextLink"].replace("127.0.0.1", "evil.example")
        if ds in state.looping_next:
            body["@iot.nextLink"] = str(request.url)
        return body

    return app


@contextmanager
def sta_server(state: StaState) -> Iterator[str]:
    """Serve ``state`` until the block ends; yields the base URL (``.../v1.1``)."""
    port = free_port()
    state.base = f"http://127.0.0.1:{port}{PREFIX}"
    config = uvicorn.Config(
        make_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the SensorThings test server did not start")
        time.sleep(0.02)
    try:
        yield state.base
    finally:
        server.should_exit = True
        thread.join(10)
