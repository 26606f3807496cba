"""twin: the application (settings, store, HTTP service, CLI)."""

__version__ = "0.1.0"
