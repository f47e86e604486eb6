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
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__
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
    allowed_hosts: tuple[str, ...] | None = None  # Host header check (DNS rebinding); None = any


class Service:
    """What the routes need: the store, the job queue, the limits."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(Path(settings.data_dir) if settings.data_dir else default_data_dir())
        self.jobs = JobQueue(self.store, workers=settings.workers, analyze=settings.analyze,
                             analyze_ref=settings.analyze_ref)
        self.max_bytes = int(settings.max_upload_mb * 1024 * 1024)

    def recover(self) -> None:
        """After a restart: fail what was running, queue again what was waiting."""
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
    if settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    from .api import router as api_router
    from .pages import html_error_handler, router as page_router

    app.add_exception_handler(StarletteHTTPException, html_error_handler)
    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
