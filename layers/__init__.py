"""layers: the project catalogue and sensor layers (no web imports)."""
