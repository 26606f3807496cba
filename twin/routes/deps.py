"""Dependencies shared by routes: settings and the store.

A layer from its path name is ``api.VisibleLayerDep``, which applies the public/internal
rule; there is deliberately no dependency that skips it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..settings import Settings
from ..store import Store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
