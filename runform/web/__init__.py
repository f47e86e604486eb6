"""Local web app (`runform serve`): upload, progress, report, history and comparison over runform.api."""

from __future__ import annotations


def create_app(settings=None):
    """Build the FastAPI app (imported lazily: FastAPI is an optional extra)."""
    from .app import create_app as _create

    return _create(settings)


__all__ = ["create_app"]
