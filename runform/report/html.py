"""HTML from the report's templates, with the stylesheet and icon inlined: a file that needs
nothing but itself. Its own module so that report pages (report, compare, batch overview) share it
without importing each other."""

from __future__ import annotations

from typing import Any

from .._version import __version__
from . import context as cx

#: The web app's icon, inline: the report is one file that fetches nothing (its CSP allows data: images).
FAVICON = ("data:image/svg+xml,%3Csvg xmlns='http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg' viewBox='0 0 32 32'%3E%3Crect width='32' "
           "height='32' rx='6' fill='%2314213d'/%3E%3Cpath d='M9 25l5-8 4 3 5-11' fill='none' stroke='%23fca311' "
           "stroke-width='3' stroke-linecap='round' stroke-linejoin='round'/%3E%3Ccircle cx='23' cy='7' r='3' "
           "fill='%23fff'/%3E%3C/svg%3E")


def render_html(template: str, **ctx: Any) -> str:
    """Render a template with the stylesheet inlined, so the file needs nothing but itself."""
    from importlib.resources import files

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    tdir = files(__package__).joinpath("templates")
    env = Environment(loader=FileSystemLoader(str(tdir)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = cx.fmt
    css = tdir.joinpath("style.css").read_text()
    return env.get_template(template).render(css=css, version=__version__, favicon=FAVICON, **ctx)
