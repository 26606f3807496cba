"""One settings class for the whole application (environment prefix ``TWIN_``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from .basemaps import (
    LEGACY_NAME,
    NATURAL_EARTH,
    BaseMapSpec,
    check_names,
    check_url,
    csp_origins,
    natural_earth,
)

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
    base_maps: list[BaseMapSpec] = Field(
        default_factory=list,
        description="Base maps the viewer offers besides the offline Natural Earth II, as JSON: "
        '[{"name": "topo", "title": "Topografisk", "type": "xyz"|"wmts"|"tms", "url": ..., '
        '"layer", "style", "tile_matrix_set", "format", "maximum_level", "credit"}] '
        '(docs/GUIDE.md, "Base maps and terrain").',
    )
    default_base_map: str | None = Field(
        None,
        description="Name of the base map shown first; default: the one from base_map_url "
        "when set, else natural-earth (offline).",
    )
    base_map_url: str | None = Field(
        None,
        description="Older single-map setting: a TMS base map URL, offered as the base map "
        "named base-map and shown first. Prefer base_maps.",
    )
    base_map_credit: str = Field("", description="The credit of base_map_url's map.")
    terrain_url: str | None = Field(
        None,
        description="A quantized-mesh terrain (the folder holding layer.json); default: "
        "none (the WGS 84 ellipsoid).",
    )
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

    @field_validator("base_maps")
    @classmethod
    def _check_base_maps(cls, value: list[BaseMapSpec]) -> list[BaseMapSpec]:
        return check_names(value)

    @field_validator("base_map_url", "terrain_url")
    @classmethod
    def _check_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None or value == "" else check_url(value, str(info.field_name))

    @model_validator(mode="after")
    def _check_default_base_map(self) -> Settings:
        if self.base_map_url and any(m.name == LEGACY_NAME for m in self.base_maps):
            raise ValueError(
                f"base map name {LEGACY_NAME!r} is taken by base_map_url's map: rename it"
            )
        names = [m.name for m in self.all_base_maps()]
        if self.default_base_map is not None and self.default_base_map not in names:
            raise ValueError(
                f"TWIN_DEFAULT_BASE_MAP: {self.default_base_map!r} is none of the base maps: "
                + ", ".join(names)
            )
        return self

    def all_base_maps(self, cesium_url: str = "/cesium/") -> list[BaseMapSpec]:
        """Natural Earth II (offline, always there), the older base_map_url's map, then
        base_maps in their order."""
        maps = [natural_earth(cesium_url)]
        if self.base_map_url:
            title = urlsplit(self.base_map_url).hostname or "TMS"
            maps.append(
                BaseMapSpec(
                    name=LEGACY_NAME,
                    title=title,
                    type="tms",
                    url=self.base_map_url,
                    credit=self.base_map_credit,
                )
            )
        return maps + self.base_maps

    @property
    def base_map_name(self) -> str:
        """The base map the viewer shows first."""
        if self.default_base_map:
            return self.default_base_map
        return LEGACY_NAME if self.base_map_url else NATURAL_EARTH

    @property
    def external_origins(self) -> list[str]:
        """Other servers the viewer fetches from (base maps, terrain): for the CSP."""
        urls = [m.url for m in self.all_base_maps()]
        return csp_origins(urls + ([self.terrain_url] if self.terrain_url else []))

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


#: What Settings() raises for bad settings (settings_error says it in one line).
SettingsInvalid = (ValidationError, SettingsError)


def settings_error(exc: Exception) -> str:
    """One line for a settings error: each bad field as its TWIN_ variable, and why."""
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            msg = str(err["msg"]).removeprefix("Value error, ")
            if not loc:
                parts.append(msg)
                continue
            var = f"TWIN_{loc[0].upper()}"
            where = f"{var}[{']['.join(loc[1:])}]" if len(loc) > 1 else var
            value = err.get("input")
            shown = f"={value!r}" if len(loc) == 1 and isinstance(value, str) else ""
            parts.append(f"{where}{shown}: {msg}")
        return "invalid settings: " + "; ".join(parts) + " [bad_setting]"
    cause = f" ({exc.__cause__})" if exc.__cause__ else ""
    return f"invalid settings: {exc}{cause} [bad_setting]"


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
