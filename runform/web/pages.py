"""HTML pages (jinja2). They render what the store holds; live updates come from the /api routes."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .._version import __version__
from ..metrics.registry import key_metrics
from ..schema import Analysis
from .api import status_view
from .messages import FEELINGS, LABELS, PAIN_SITES
from .store import valid_id

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# Metrics shown first and in the history table, when measured: the registry's key metrics, by rank.
KEY_METRICS = key_metrics()
_DEFAULT_DECIMALS = {"deg": 1, "L": 2, "ms": 0, "%": 1, "steps/min": 1, "cm": 1, "m": 2, "ratio": 2}


def decimals_for(unit: str, uncertainty: float | None) -> int:
    """Show as many decimals as the uncertainty supports (one significant figure of it)."""
    if uncertainty and uncertainty > 0 and math.isfinite(uncertainty):
        return max(0, min(3, -math.floor(math.log10(uncertainty))))
    return _DEFAULT_DECIMALS.get(unit, 2)


def fmt_value(value, unit: str = "", uncertainty=None, category=None, metric_id=None) -> str:
    """As the report writes it (runform.report.context), so one value reads the same on every page."""
    from ..report.context import fmt, fmt_u

    if category:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return str(category)
        return f"{category} ({value:.0f} {unit})" if unit else str(category)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "not measured"
    text = fmt(value, unit, metric_id=metric_id)
    if uncertainty is not None and math.isfinite(uncertainty):
        text += " " + fmt_u(uncertainty, unit)
    return text


def fmt_delta(value, unit: str = "", uncertainty=None) -> str:
    if value is None:
        return ""
    d = decimals_for(unit, uncertainty)
    text = f"{value:+.{d}f}"
    if uncertainty is not None:
        text += f" ± {uncertainty:.{d}f}"
    return f"{text} {unit}".strip()


def fmt_time(ts) -> str:
    if not ts:
        return ""
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts).timestamp()
        except ValueError:
            return ts
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _source_words(src):
    from ..report.context import source_words

    return source_words(src)


templates.env.filters.update(fmt_value=fmt_value, fmt_delta=fmt_delta, fmt_time=fmt_time, source_words=_source_words,
                             label=lambda key: LABELS.get(key, key))
templates.env.globals.update(version=__version__)


_ERROR_TITLES = {404: "Not found", 409: "Not ready", 405: "Not allowed"}


async def html_error_handler(request: Request, exc):
    """Pages get a readable HTML error; the API keeps FastAPI's JSON errors."""
    from fastapi.exception_handlers import http_exception_handler

    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return await http_exception_handler(request, exc)
    title = _ERROR_TITLES.get(exc.status_code, "Something went wrong")
    message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else \
        "There is nothing at this address. It may have been deleted."
    return templates.TemplateResponse(request, "error.html", {"title": title, "message": message},
                                      status_code=exc.status_code)


def _svc(request: Request):
    return request.app.state.service


def _page(request: Request, name: str, **ctx) -> HTMLResponse:
    return templates.TemplateResponse(request, name, ctx)


@router.get("/", response_class=HTMLResponse)
def upload_page(request: Request):
    svc = _svc(request)
    return _page(request, "upload.html", runners=svc.store.list_runners(),
                 recent=[status_view(svc, r) for r in svc.store.list_analyses(limit=8)],
                 pain_sites=PAIN_SITES, feelings=FEELINGS, max_upload_mb=svc.settings.max_upload_mb,
                 warning_signs=_warning_signs())


def _warning_signs() -> dict[str, list]:
    """Per pain chip, the warning-sign questions the form asks (the CLI asks the same, screen.yaml)."""
    from ..assess import load_kb

    kb = load_kb()
    out = {"general": kb.screen.get("general", [])}
    for p in PAIN_SITES:
        out[p] = kb.screen.get(kb.resolve_symptom(p) or p, [])
    return out


def ordered_metrics(analysis: Analysis) -> list:
    """Key metrics first, then the rest, as they come; each with the one uncertainty the report shows
    for it, and without cm rows that only repeat a measured leg-length metric (no height given)."""
    from ..report.context import shown_summary, shown_uncertainty

    s = {k: m.model_copy(update={"uncertainty": shown_uncertainty(analysis, k)})
         for k, m in shown_summary(analysis).items()}
    first = [s[k] for k in KEY_METRICS if k in s]
    return first + [m for k, m in s.items() if k not in KEY_METRICS]


@router.get("/analyses/{aid}", response_class=HTMLResponse)
def analysis_page(request: Request, aid: str):
    svc = _svc(request)
    row = svc.store.get_analysis(aid) if valid_id(aid) else None
    if row is None:
        raise HTTPException(404, "no such analysis")
    view = status_view(svc, row)
    analysis = None
    out = svc.store.out_dir(aid)
    if row["status"] == "done" and (out / "analysis.json").exists():
        analysis = Analysis.load(out / "analysis.json")
    videos = annotated_videos(view, analysis, out) if analysis else []
    return _page(request, "analysis.html", a=view, analysis=analysis,
                 metrics=ordered_metrics(analysis) if analysis else [], videos=videos,
                 has_video=bool(videos), has_report=(out / "report.html").is_file(),
                 choose_runner=row["status"] == "failed" and row["error_kind"] == "MultiplePeopleError",
                 frame_sizes=[((row["params"].get("second") or {}) if i else row["params"]).get("video") or {}
                              for i in range(len(view["clips"]))])


VIEW_WORDS = {"side": "side view", "rear": "from behind", "front": "from the front"}


def annotated_videos(view: dict, analysis: Analysis, out: Path) -> list[dict]:
    """One annotated video per clip of the run that has one on disk (named as the report names them)."""
    from ..report import annotated_name

    videos = []
    for c, q in zip(view["clips"], analysis.quality):
        if (out / annotated_name(c["index"], q.view)).is_file():
            videos.append({"src": c["annotated"], "original": c["original"], "view": VIEW_WORDS.get(q.view, q.view),
                           "id": "annotated-video" if c["index"] == 0 else f"annotated-video-{c['index']}"})
    return videos


@router.get("/runners", response_class=HTMLResponse)
def runners_page(request: Request):
    svc = _svc(request)
    unnamed = [status_view(svc, r) for r in svc.store.list_analyses() if r["runner_id"] is None]
    return _page(request, "runners.html", runners=svc.store.list_runners(), unnamed=unnamed)


def trend(sessions: list[dict], metric_id: str, width: int = 260, height: int = 90) -> dict | None:
    """One metric over a runner's finished sessions, oldest first, as SVG coordinates with ±u bars."""
    pts = []
    for s in sorted(sessions, key=lambda s: s["created"] or ""):
        m = (s["summary"] or {}).get("metrics", {}).get(metric_id) if s["status"] == "done" else None
        if m and m.get("value") is not None and math.isfinite(m["value"]):
            pts.append((s, m["value"], m.get("uncertainty") or 0.0, m))
    if len(pts) < 2:
        return None
    lo = min(v - u for _, v, u, _ in pts)
    hi = max(v + u for _, v, u, _ in pts)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    left, right, top, bottom = 6, width - 6, 14, height - 16

    def y(v: float) -> float:
        return round(bottom - (v - lo) / (hi - lo) * (bottom - top), 1)

    step = (right - left) / (len(pts) - 1)
    out = [{"x": round(left + i * step, 1), "y": y(v), "y_lo": y(v - u), "y_hi": y(v + u),
            "label": f"{fmt_time(s['created'])}: {fmt_value(v, m['unit'], u or None)}"}
           for i, (s, v, u, m) in enumerate(pts)]
    unit = pts[0][3]["unit"]
    return {"id": metric_id, "name": pts[0][3]["name"], "width": width, "height": height, "points": out,
            "path": " ".join(f"{'M' if i == 0 else 'L'}{p['x']},{p['y']}" for i, p in enumerate(out)),
            "first": fmt_value(pts[0][1], unit, pts[0][2] or None), "last": fmt_value(pts[-1][1], unit, pts[-1][2] or None)}


@router.get("/runners/{runner_id}", response_class=HTMLResponse)
def runner_page(request: Request, runner_id: str):
    from .api import runner_or_404

    svc = _svc(request)
    runner = runner_or_404(svc, runner_id)
    sessions = [status_view(svc, r) for r in svc.store.list_analyses(runner["id"])]
    names = {k: m["name"] for s in sessions if s["summary"] for k, m in s["summary"]["metrics"].items()}
    columns = [(k, names[k]) for k in KEY_METRICS if k in names][:6]
    trends = [t for t in (trend(sessions, k) for k, _ in columns) if t]
    return _page(request, "runner.html", runner=runner, sessions=sessions, columns=columns, trends=trends)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, a: str, b: str):
    from .api import compare

    result = compare(request, a, b)
    return _page(request, "compare.html", c=result)
