"""Small helpers shared by the readers."""

from __future__ import annotations


def one_line(err: BaseException, limit: int = 200) -> str:
    """An exception as one short line (library messages often carry newlines)."""
    text = " ".join(f"{err.__class__.__name__}: {err}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
