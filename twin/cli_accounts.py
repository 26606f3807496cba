"""`twin` subcommands for the accounts (registered by :mod:`twin.cli`)."""

from __future__ import annotations

import argparse

from .settings import Settings

#: The subcommand names this module handles.
COMMANDS: frozenset[str] = frozenset()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to the `twin` parser."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    raise NotImplementedError(args.command)
