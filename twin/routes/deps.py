"""Dependencies shared by routes: settings, the store, a layer from its path name."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from ..settings import Settings
from ..store import Layer, Store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_layer(
    store: Annotated[Store, Depends(get_store)],
    layer: Annotated[str, Path(description="The layer's name, e.g. `demo`.")],
) -> Layer:
    return store.get(layer)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
LayerDep = Annotated[Layer, Depends(get_layer)]
