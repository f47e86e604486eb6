"""`create_app(settings)`: the FastAPI app behind `runform serve`. Pages and HTTP API share one service.

Results are served only through the API routes (never a static mount of the data folder), so
only files inside an analysis' own output folder can ever be read.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from .security import LOOPBACK_NAMES, Guard
from .store import Store, default_data_dir
from .worker import DEFAULT_ANALYZE, JobQueue

log = logging.getLogger("runform.web")
HERE = Path(__file__).parent


@dataclass
class Settings:
    data_dir: Path | None = None  # default: platformdirs.user_data_dir('runform')
    max_upload_mb: float = 500.0
    workers: int = 1
    analyze: Callable | None = None  # tests inject one; it then runs in threads
    analyze_ref: str = DEFAULT_ANALYZE  # "module:function" run in worker processes
    # Host header check (DNS rebinding), always on: this computer's own names plus these.
    allowed_hosts: tuple[str, ...] = ()
    any_ip: bool = False  # listening beyond loopback: any IP address in Host (no rebinding can forge one)
    token: str | None = None  # listening beyond loopback: every request must carry it (see security.py)


class Service:
    """What the routes need: the store, the job queue, the limits."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(Path(settings.data_dir) if settings.data_dir else default_data_dir())
        self.jobs = JobQueue(self.store, workers=settings.workers, analyze=settings.analyze,
                             analyze_ref=settings.analyze_ref)
        self.max_bytes = int(settings.max_upload_mb * 1024 * 1024)

    def recover(self) -> None:
        """After a restart: sweep partial uploads, mark what was running interrupted (its upload is
        kept for Retry), queue again what was waiting."""
        swept = self.store.sweep()
        if swept:
            log.warning("removed %d partial upload(s) left by an earlier stop", len(swept))
        failed, queued = self.store.recover_after_restart()
        if failed:
            log.warning("%d analyses were interrupted by a restart and are marked failed", len(failed))
        for aid in queued:
            self.jobs.submit(aid)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = Service(settings)
    service.recover()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.jobs.shutdown()

    app = FastAPI(title="runform", version=__version__, lifespan=lifespan,
                  description="Upload a running clip, follow the analysis, read the report, compare sessions.",
                  docs_url="/api/docs", redoc_url=None)
    app.state.service = service

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the pages' own
        # POSTs, which the Origin check cannot tell from a sandboxed foreign page.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # the report shows in an iframe
        return response

    app.add_middleware(Guard, allowed_names=LOOPBACK_NAMES + tuple(settings.allowed_hosts or ()),
                       any_ip=settings.any_ip, token=settings.token)

    from .api import router as api_router
    from .pages import html_error_handler, router as page_router

    app.add_exception_handler(StarletteHTTPException, html_error_handler)
    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
