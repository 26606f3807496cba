"""One settings class for the whole application (environment prefix ``TWIN_``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Read from the environment (``TWIN_DATA_DIR`` ...) or given by the caller."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    data_dir: Path = Field(Path("twin-data"), description="Where layers and the database live.")
    title: str = Field("twin", description="Shown in the viewer's title bar.")
    viewer_dir: Path = Field(REPO_ROOT / "viewer", description="The static viewer files.")
    cesium_dir: Path = Field(
        REPO_ROOT / "node_modules" / "cesium" / "Build" / "Cesium",
        description="CesiumJS's prebuilt Build/Cesium folder (from npm).",
    )
    swagger_dir: Path = Field(
        REPO_ROOT / "node_modules" / "swagger-ui-dist",
        description="Swagger UI (from npm) for the /docs page.",
    )
    uplot_dir: Path = Field(
        REPO_ROOT / "node_modules" / "uplot" / "dist",
        description="uPlot (from npm): the viewer's sensor history chart.",
    )
    frame_ancestors: str = Field(
        "*",
        description="Who may show the embed viewer (/?embed=1) in a frame: a CSP "
        'frame-ancestors source list, e.g. "https://www.example.se https://*.example.se"; '
        "'none' forbids it. Every other page and the API stay same-origin only.",
    )
    base_map_url: str | None = Field(
        None, description="A TMS base map URL; default: Natural Earth II shipped with CesiumJS."
    )
    base_map_credit: str = Field("Natural Earth II (public domain), shipped with CesiumJS")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db; "
        "default: SQLite (WAL) at <data_dir>/twin.db.",
    )
    stale_months: int = Field(
        6,
        ge=1,
        description="A project not reviewed for this many "
        "months is listed as stale in its municipality's steward view.",
    )
    session_days: int = Field(14, ge=1, description="Login sessions expire after this.")
    cookie_secure: bool | None = Field(
        None, description="Secure cookies: default on when the request came over https."
    )
    login_attempts: int = Field(
        10,
        ge=1,
        description="Failed logins per account or client "
        "address within login_window_minutes before 429.",
    )
    login_window_minutes: int = Field(15, ge=1)
    debug: bool = False
    # --- import jobs ---
    workers: int = Field(
        1,
        ge=0,
        description="Worker processes `twin serve` starts (each converts one job at a time).",
    )
    start_workers: bool = Field(
        False, description="Start the workers inside the web service (`twin serve` sets it)."
    )
    upload_max_bytes: int = Field(2 * 1024**3, ge=1, description="Largest upload accepted.")
    archive_max_entries: int = Field(10_000, ge=1, description="Most entries in an uploaded zip.")
    archive_max_bytes: int = Field(
        8 * 1024**3, ge=1, description="Largest total uncompressed size of an uploaded zip."
    )
    archive_max_ratio: int = Field(
        200, ge=1, description="Largest uncompressed/compressed ratio of a zip entry."
    )
    job_heartbeat_seconds: float = Field(2.0, gt=0, description="How often a worker says alive.")
    job_stale_seconds: float = Field(
        60.0, gt=0, description="A running job without a heartbeat for this long is lost."
    )
    proj_grid_dir: Path | None = Field(
        None,
        description="A folder of PROJ transformation grids (geoid models such as "
        "se_lantmateriet_SWEN17_RH2000.tif) used besides PROJ's own; twin downloads none.",
    )
    validate_gltf: bool = Field(
        True, description="Run the Khronos glTF validator (Node.js) on every glb before publishing."
    )
    # --- sensors ---
    sensor_retention_days: int = Field(
        0, ge=0, description="Delete observations older than this many days (0: keep forever)."
    )
    sse_heartbeat_seconds: float = Field(
        15.0, gt=0, description="Idle server-sent event streams send a comment line this often."
    )
    ingest_max_items: int = Field(
        5000, ge=1, description="Most observations one POST /api/ingest request may carry."
    )
    sse_max_streams: int = Field(
        1000, ge=1, description="Live sensor streams one app process serves at once (then 429)."
    )
    # --- sensor sources (`twin sensors run`; docs/SENSORS-SOURCES.md) ---
    mqtt_url: str | None = Field(
        None, description="MQTT broker to subscribe to: mqtt://user:pass@host:1883 or mqtts://."
    )
    mqtt_mappings: Path | None = Field(
        None, description="JSON or TOML file of MQTT topic mappings (LoRaWAN servers, ...)."
    )
    sta_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="SensorThings API base URLs to poll (comma-separated), e.g. "
        "https://example.org/FROST-Server/v1.1",
    )
    sta_poll_seconds: float = Field(60.0, gt=0, description="How often to poll each STA server.")
    sta_organisation: str | None = Field(
        None,
        description="Owner (municipality code) of datastreams created on first sight of a "
        "remote STA datastream; unset: only datastreams created beforehand are pulled.",
    )
    replay: bool = Field(False, description="Replay the recorded demo readings as live data.")
    replay_speed: float = Field(
        1.0, gt=0, le=3600, description="Replay speed: 60 plays an hour of recording a minute."
    )
    sensors_in_serve: bool = Field(
        True, description="`twin serve` runs the configured sensor sources in a child process."
    )

    @field_validator("frame_ancestors")
    @classmethod
    def _check_frame_ancestors(cls, value: str) -> str:
        return check_frame_ancestors(value)

    @field_validator("sta_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [u for u in value.replace(",", " ").split() if u]
        return value

    @property
    def sensor_sources_configured(self) -> bool:
        return bool(self.mqtt_url or self.sta_urls or self.replay)

    @property
    def layers_dir(self) -> Path:
        return self.data_dir / "layers"

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'twin.db').resolve()}"

    @property
    def staging_dir(self) -> Path:
        """Uploads being prepared and converted: on the same filesystem as the layers."""
        return self.data_dir / "staging"


_FRAME_SOURCE = re.compile(
    r"^(\*|'self'|'none'|[a-z][a-z0-9+.-]*:"
    r"|([a-z][a-z0-9+.-]*://)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?(/[^\s;,'\"]*)?)$",
    re.IGNORECASE,
)


def check_frame_ancestors(value: str) -> str:
    """A CSP ``frame-ancestors`` source list, normalised to single spaces; ValueError for
    anything else (a ``;`` or a newline would inject other directives or headers)."""
    sources = value.split()
    if not sources:
        raise ValueError("frame_ancestors is empty: give 'none' to forbid framing")
    for source in sources:
        if not _FRAME_SOURCE.match(source):
            raise ValueError(f"frame_ancestors: {source!r} is not a CSP source")
    if "'none'" in sources and len(sources) > 1:
        raise ValueError("frame_ancestors: 'none' must stand alone")
    return " ".join(sources)


def settings_errors(exc: ValidationError) -> list[str]:
    """One line per invalid setting, named as the operator sets it (``TWIN_...=value``)."""
    lines = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        name = f"TWIN_{field.upper()}" if field in Settings.model_fields else field
        value = err.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"invalid setting {name}{shown}: {message} [bad_setting]")
    return lines
