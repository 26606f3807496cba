"""Reference data: the Familjen Helsingborg municipalities and the category list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Category, Municipality

#: code, name, rough lon/lat extent (west, south, east, north)
MUNICIPALITIES: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("1214", "Svalöv", (13.00, 55.85, 13.35, 56.05)),
    ("1257", "Örkelljunga", (13.10, 56.20, 13.50, 56.40)),
    ("1260", "Bjuv", (12.85, 56.00, 13.10, 56.15)),
    ("1275", "Perstorp", (13.30, 56.05, 13.55, 56.20)),
    ("1276", "Klippan", (13.00, 56.05, 13.35, 56.25)),
    ("1277", "Åstorp", (12.85, 56.08, 13.10, 56.20)),
    ("1278", "Båstad", (12.50, 56.35, 13.05, 56.50)),
    ("1282", "Landskrona", (12.65, 55.80, 13.05, 55.95)),
    ("1283", "Helsingborg", (12.55, 55.90, 12.95, 56.20)),
    ("1284", "Höganäs", (12.45, 56.10, 12.75, 56.30)),
    ("1292", "Ängelholm", (12.70, 56.15, 13.10, 56.40)),
)

#: The owner of the demo city's example projects: clearly not a real municipality.
DEMO_CODE = "DEMO"
DEMO_NAME = "Demoorganisation (exempeldata)"
DEMO_EXTENT = (4.35, 51.99, 4.38, 52.02)

CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("mobility", "Mobilitet", "Mobility"),
    ("energy", "Energi", "Energy"),
    ("environment", "Miljö", "Environment"),
    ("water", "Vatten", "Water"),
    ("safety", "Trygghet och säkerhet", "Safety"),
    ("health-care", "Hälsa och omsorg", "Health and care"),
    ("education", "Utbildning", "Education"),
    ("citizen-services", "Medborgarservice", "Citizen services"),
    ("infrastructure", "Infrastruktur", "Infrastructure"),
    ("business", "Näringsliv", "Business"),
    ("urban-planning", "Samhällsbyggnad", "Urban planning"),
    ("digitalisation", "Digitalisering", "Digitalisation"),
)


def seed(session: Session, *, demo: bool = True) -> None:
    """Insert the reference rows that are missing (idempotent; edits are kept)."""
    have = set(session.scalars(select(Municipality.code)))
    rows = [(c, n, e, False) for c, n, e in MUNICIPALITIES]
    if demo:
        rows.append((DEMO_CODE, DEMO_NAME, DEMO_EXTENT, True))
    for code, name, (w, s, e, n), is_demo in rows:
        if code not in have:
            session.add(
                Municipality(
                    code=code, name=name, west=w, south=s, east=e, north=n, is_demo=is_demo
                )
            )
    have_cats = set(session.scalars(select(Category.key)))
    for i, (key, sv, en) in enumerate(CATEGORIES):
        if key not in have_cats:
            session.add(Category(key=key, name_sv=sv, name_en=en, sort=i))
    session.commit()
