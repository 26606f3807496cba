"""One settings class for the whole application (environment prefix ``TWIN_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    base_map_url: str | None = Field(
        None, description="A TMS base map URL; default: Natural Earth II shipped with CesiumJS."
    )
    base_map_credit: str = Field("Natural Earth II (public domain), shipped with CesiumJS")
    debug: bool = False

    @property
    def layers_dir(self) -> Path:
        return self.data_dir / "layers"
