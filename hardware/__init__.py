"""Chip profiles. Each chip is one file; :data:`PROFILES` maps the CLI name to the profile."""

PROFILES: dict = {}

__all__ = ["PROFILES"]
