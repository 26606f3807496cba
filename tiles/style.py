"""Default colours: by semantic surface where the source has one, else by object type."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .model import SURFACE_TYPES

_SURFACE_RGB = {
    "RoofSurface": (176, 84, 64),
    "WallSurface": (236, 231, 222),
    "GroundSurface": (140, 140, 140),
    "ClosureSurface": (205, 205, 205),
    "OuterCeilingSurface": (220, 215, 205),
    "OuterFloorSurface": (200, 195, 185),
    "Window": (150, 190, 215),
    "Door": (125, 90, 60),
    "WaterSurface": (80, 130, 200),
    "WaterGroundSurface": (70, 100, 140),
    "WaterClosureSurface": (110, 150, 210),
    "TrafficArea": (115, 115, 120),
    "AuxiliaryTrafficArea": (150, 150, 140),
    "TransportationMarking": (240, 240, 240),
}
_TYPE_RGB = {
    "Building": (232, 226, 214),
    "BuildingPart": (232, 226, 214),
    "BuildingInstallation": (210, 200, 185),
    "Road": (128, 128, 134),
    "Railway": (120, 105, 95),
    "TransportSquare": (150, 148, 140),
    "Transportation": (128, 128, 134),
    "PlantCover": (112, 160, 86),
    "SolitaryVegetationObject": (80, 140, 70),
    "WaterBody": (76, 128, 200),
    "LandUse": (200, 205, 165),
    "Bridge": (165, 158, 148),
    "BridgePart": (165, 158, 148),
    "Tunnel": (120, 110, 100),
    "TINRelief": (180, 172, 150),
    "GenericCityObject": (190, 178, 190),
    "CityFurniture": (150, 140, 128),
}
_DEFAULT = (205, 205, 205)

SURFACE_PALETTE: NDArray[np.uint8] = np.array(
    [(*_SURFACE_RGB.get(name, _DEFAULT), 255) for name in SURFACE_TYPES], dtype=np.uint8
)


def type_rgba(object_type: str) -> tuple[int, int, int, int]:
    base = object_type.lstrip("+")
    return (*_TYPE_RGB.get(base, _DEFAULT), 255)
