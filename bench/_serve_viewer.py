"""The twin app (as ``twin serve`` builds it, without job workers) plus the benchmark's
bare CesiumJS page at /bench/bare/, so both pages load from one server under the same
headers (gzip, Content-Security-Policy, caching).

``python -m bench._serve_viewer DATA_DIR PORT``
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from fastapi.staticfiles import StaticFiles

from twin.app import create_app
from twin.settings import Settings

BARE = Path(__file__).resolve().parent / "bare"


def main() -> None:
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    app = create_app(Settings(data_dir=data_dir, sensors_in_serve=False))
    app.mount("/bench/bare", StaticFiles(directory=BARE, html=True), name="bench-bare")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
