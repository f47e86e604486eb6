"""HTTP API under /api. The pages use exactly these routes; /openapi.json describes them."""

from __future__ import annotations

import asyncio
import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..errors import InputError
from ..settings import BOUNDS, METHOD_KEYS
from .messages import FEELINGS, PAIN_SITES, user_error
from .store import clean_name, parse_runner_id, valid_id
from .uploads import BadUpload, UploadTooLarge, first_frame_jpeg, probe_video, receive_upload

FILE_FIELDS = ("video", "video2")  # the clip, and optionally a rear or front view of the same run
MAX_PERSON = int(BOUNDS["person"][1])
_KMH = 3.6


def _bounds(key: str, factor: float = 1.0) -> dict[str, float]:
    lo, hi, _ = BOUNDS[key]
    return {"minimum": round(lo * factor, 3), "maximum": round(hi * factor, 3)}


router = APIRouter(prefix="/api", tags=["api"])

_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["video"],
            "properties": {
                "video": {"type": "string", "format": "binary", "description": "the clip (any format FFmpeg decodes)"},
                "video2": {"type": "string", "format": "binary",
                           "description": "optional: a rear or front view of the same run (one side + one "
                                          "rear/front clip are measured together); same size limit"},
                "person": {"type": "integer", "minimum": 0, "maximum": MAX_PERSON,
                           "description": "several people in view: follow person N (as numbered in the error)"},
                "point": {"type": "string", "pattern": r"^\d+(\.\d+)?,\d+(\.\d+)?$",
                          "description": "several people in view: 'X,Y', a pixel on the runner in the first "
                                         "frame (GET .../frame shows it); not together with person"},
                "runner": {"type": "string", "maxLength": 100,
                           "description": "runner's name; groups sessions in the history (an existing runner's "
                                          "stored height is not changed: PATCH /api/runners/{id} does that)"},
                "runner_id": {"type": "integer", "description": "an existing runner's id (instead of the name)"},
                "height_cm": {"type": "number", **_bounds("height_cm")},
                "speed_mps": {"type": "number", **_bounds("speed_mps")},
                "speed_kmh": {"type": "number", **_bounds("speed_mps", _KMH)},
                "speed": {"type": "string", "description": "speed as written: 3.3 (m/s), 12km/h, 7.5mph, 4:30/km; "
                                                           "a bare number above 8 is refused (add a unit)"},
                "goal": {"type": "string", "enum": ["", "speed", "economy", "injury-history"],
                         "description": "without pain: ask for a practice plan for this goal"},
                "screen": {"type": "array", "items": {"type": "string"},
                           "description": "warning signs for the reported pain: 'none', or the sign ids that apply"},
                "capture_fps": {"type": "number", **_bounds("capture_fps"),
                                "description": "slow motion: frames per real second when filmed (e.g. 120, 240)"},
                "treadmill": {"type": "string", "enum": ["auto", "treadmill", "overground"]},
                "view": {"type": "string", "enum": ["auto", "side", "rear", "front"]},
                "sex": {"type": "string", "enum": ["", "female", "male"]},
                "pain": {"type": "array", "items": {"type": "string", "enum": list(PAIN_SITES)}},
                "feels": {"type": "array", "items": {"type": "string", "enum": list(FEELINGS)}},
                "baseline": {"type": "string", "enum": ["", "previous"],
                             "description": "'previous': compare with the runner's last finished session"},
                "pose_backend": {"type": "string", "description": "pose model (runform.settings; default blazepose_heavy)"},
                "cleaner": {"type": "string", "description": "keypoint cleaner (default zero_lag)"},
                "view_detector": {"type": "string", "description": "view detector (default pose_geometry)"},
                "event_method": {"type": "string", "description": "gait event detector (default learned)"},
                "frontal_event_method": {"type": "string",
                                         "description": "gait event detector for rear/front clips (default foot_clearance)"},
                "cutoff_hz": {"type": "number", **_bounds("cutoff_hz"),
                              "description": "keypoint low-pass cut-off in Hz (default: by frame rate)"},
                "max_gap_s": {"type": "number", **_bounds("max_gap_s"),
                              "description": "longest keypoint gap the cleaner fills, s"},
            }}}},
    },
    "responses": {"413": {"description": "a clip larger than the upload limit"},
                  "415": {"description": "not a video that can be decoded"}},
}

_RETRY_SCHEMA = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {
            "type": "object",
            "description": "optional: who to follow this time (several people in view); applies to every clip",
            "properties": {
                "person": {"type": "integer", "minimum": 0, "maximum": MAX_PERSON},
                "point": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 2, "maxItems": 2,
                          "description": "[x, y] in pixels of the first frame (GET .../frame)"},
            }}}},
    },
}


def _service(request: Request):
    return request.app.state.service


class FieldError(ValueError):
    """A form or JSON value the user gave that cannot be used: which field, and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def error_response(status: int, kind: str, message: str, field: str | None = None) -> JSONResponse:
    err = user_error(kind, message)
    if field:
        err["field"] = field
    return JSONResponse({"detail": f"{err['title']}: {message}".rstrip(": "), "error": err}, status_code=status)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds") if ts else None


def status_view(service, row: dict) -> dict[str, Any]:
    """The public form of one analysis record."""
    aid = row["id"]
    base = f"/api/analyses/{aid}"
    out = service.store.out_dir(aid)
    view = {
        "id": aid, "status": row["status"], "stage": row["stage"], "stage_fraction": row["stage_fraction"],
        "progress": row["progress"], "runner": {"id": row["runner_id"], "name": row.get("runner_name")},
        "upload_name": row["upload_name"], "created": _iso(row["created"]), "started": _iso(row["started"]),
        "finished": _iso(row["finished"]), "params": row["params"], "summary": row["summary"],
        "queue_position": service.store.queue_position(aid) if row["status"] == "queued" else None,
        "error": user_error(row["error_kind"], row["error"]) if row["status"] == "failed" else None,
        "links": {"self": base, "events": f"{base}/events", "page": f"/analyses/{aid}"},
    }
    second = (row["params"] or {}).get("second") or {}
    names = [row["upload_name"]] + ([second.get("upload_name")] if second else [])
    view["clips"] = [{"index": i, "upload_name": n, "frame": f"{base}/frame?clip={i}",
                      "original": f"{base}/video?kind=original&clip={i}"} for i, n in enumerate(names)]
    if row["status"] == "done":
        view["links"].update(result=f"{base}/result", video=f"{base}/video")
        for c in view["clips"]:
            c["annotated"] = f"{base}/video?clip={c['index']}"
        if (out / "report.html").exists():
            view["links"]["report"] = f"{base}/report/"
    return view


def _get_row(service, aid: str) -> dict:
    row = service.store.get_analysis(aid) if valid_id(aid) else None
    if row is None:
        raise HTTPException(404, "no such analysis")
    return row


# ---- upload ----------------------------------------------------------------------------------
def _number(up, name: str, lo: float, hi: float) -> float | None:
    raw = up.get(name)
    if not raw:
        return None
    try:
        val = float(raw.replace(",", "."))
    except ValueError:
        raise FieldError(name, f"{name} must be a number") from None
    if not lo <= val <= hi:  # NaN fails this too
        raise FieldError(name, f"{name} must be between {lo:g} and {hi:g}")
    return val


def _choices(up, name: str, allowed: tuple[str, ...]) -> list[str]:
    vals = [v.strip() for raw in up.fields.get(name, []) for v in raw.split(",") if v.strip()]
    bad = [v for v in vals if v not in allowed]
    if bad:
        raise FieldError(name, f"unknown {name}: {', '.join(b[:40] for b in bad[:5])} (known: {', '.join(allowed)})")
    return sorted(set(vals), key=allowed.index)


def parse_person(person, point) -> tuple[int | None, list[float] | None]:
    """(person number, [x, y]) from form or JSON values; ValueError when invalid or both given."""
    if person in (None, "") and point in (None, "", []):
        return None, None
    if person not in (None, "") and point not in (None, "", []):
        raise FieldError("person", "choose the runner either by number (person) or by a point, not both")
    if person not in (None, ""):
        try:
            n = int(str(person).strip()[:10])
        except ValueError:
            raise FieldError("person", "person must be a whole number (0, 1, 2, ...)") from None
        if not 0 <= n <= MAX_PERSON:
            raise FieldError("person", f"person must be between 0 and {MAX_PERSON}")
        return n, None
    try:
        parts = point.split(",") if isinstance(point, str) else list(point)
        xy = [float(str(v).strip()) for v in parts]
    except (TypeError, ValueError):
        raise FieldError("point", "point must be X,Y in pixels of the first frame, e.g. 640,360") from None
    if len(xy) != 2 or not all(math.isfinite(v) and 0 <= v <= 100_000 for v in xy):
        raise FieldError("point", "point must be X,Y in pixels of the first frame, e.g. 640,360")
    return None, xy


def parse_params(up) -> dict[str, Any]:
    """Form fields -> analyze() keyword values; ValueError with a readable message when invalid."""
    speed = _number(up, "speed_mps", *BOUNDS["speed_mps"][:2])
    kmh = _number(up, "speed_kmh", *(b * _KMH for b in BOUNDS["speed_mps"][:2]))
    if speed is None and kmh is not None:
        speed = round(kmh / _KMH, 3)
    extra = _assess_params(up)
    if speed is None and extra.get("speed_text"):
        speed = extra["speed_mps"]
    extra.pop("speed_mps", None)
    treadmill = {"": None, "auto": None, "treadmill": True, "true": True, "overground": False,
                 "false": False}.get((up.get("treadmill") or "").lower(), "bad")
    if treadmill == "bad":
        raise FieldError("treadmill", "treadmill must be auto, treadmill or overground")
    view = (up.get("view") or "auto").lower()
    if view not in ("auto", "side", "rear", "front"):
        raise FieldError("view", "view must be auto, side, rear or front")
    sex = (up.get("sex") or "").lower() or None
    if sex not in (None, "female", "male"):
        raise FieldError("sex", "sex must be female or male (or left empty)")
    person, point = parse_person(up.get("person"), up.get("point"))
    out = {"height_cm": _number(up, "height_cm", *BOUNDS["height_cm"][:2]), "speed_mps": speed, "treadmill": treadmill,
           "view": None if view == "auto" else view, "sex": sex, "person": person, "point": point,
           "capture_fps": _number(up, "capture_fps", *BOUNDS["capture_fps"][:2]),
           "pain": _choices(up, "pain", PAIN_SITES), "feels": _choices(up, "feels", FEELINGS),
           "baseline_previous": (up.get("baseline") or "").lower() in ("previous", "1", "on", "true"), **extra}
    out.update(_method_params(up))
    _check_settings(out)
    return out


def _method_params(up) -> dict[str, Any]:
    """The method choices a form gave (names checked with the rest in _check_settings)."""
    out: dict[str, Any] = {}
    for key in METHOD_KEYS:
        raw = (up.get(key) or "").strip()
        if raw:
            out[key] = _number(up, key, *BOUNDS[key][:2]) if key in BOUNDS else raw[:60]
    return out


def _check_settings(params: dict[str, Any]) -> None:
    """The form's values through runform.settings, the one validation CLI and API use too."""
    from ..settings import SETTING_KEYS, Settings

    values = {k: v for k, v in params.items() if k in SETTING_KEYS or k == "speed_mps"}
    if params.get("speed_text"):
        values.update(speed=params["speed_text"], speed_mps=None)
    try:
        Settings.build(**values)
    except InputError as e:
        msg = str(e).removeprefix("settings: ")
        key = msg.split(":", 1)[0].split(".")[0]
        raise FieldError(key if key in SETTING_KEYS else "settings", msg) from None


def _assess_params(up) -> dict[str, Any]:
    """Free-text speed (runform.units, the CLI's parser), goal and warning-sign answers; only those given."""
    from ..assess import resolve_goal, resolve_screen
    from ..units import parse_speed

    out: dict[str, Any] = {}
    try:
        parsed = parse_speed(up.get("speed"), flag="speed")
        if parsed:
            out.update(speed_text=up.get("speed").strip(), speed_mps=parsed.mps, speed_unit=parsed.unit)
        goal = resolve_goal(up.get("goal"))
        answers = [v for raw in up.fields.get("screen", []) for v in raw.split(",") if v.strip()]
        screen = resolve_screen(answers or None, _choices(up, "pain", PAIN_SITES))
    except InputError as e:
        raise ValueError(str(e)) from None
    if goal:
        out["goal"] = goal
    if screen is not None:
        out["screen"] = screen
    return out


def _form_runner(svc, up) -> int | None:
    """`runner_id` names a stored runner exactly (identity by id); `runner` (a name) is used without it."""
    raw = up.get("runner_id")
    if not raw:
        if len(up.get("runner") or "") > 100:
            raise FieldError("runner", "runner name is longer than 100 characters")
        return None
    rid = parse_runner_id(raw)
    if rid is None or svc.store.get_runner(rid) is None:
        raise FieldError("runner_id", f"no runner with id {raw[:24]!r}")
    return rid


@router.post("/analyses", status_code=202, openapi_extra=_UPLOAD_SCHEMA,
             summary="Upload a clip and queue its analysis")
async def create_analysis(request: Request):
    svc = _service(request)
    aid = svc.store.new_id()
    try:
        up = await receive_upload(request.headers.get("content-type", ""), request.headers.get("content-length"),
                                  request.stream(), dest_dir=svc.store.analysis_dir(aid) / "input", stem=aid,
                                  max_bytes=svc.max_bytes, file_fields=FILE_FIELDS)
    except UploadTooLarge:
        svc.store.remove_files(aid)
        return error_response(413, "UploadTooLarge",
                              f"The clip is larger than the {svc.settings.max_upload_mb:g} MB upload limit.")
    except BadUpload as e:
        svc.store.remove_files(aid)
        return error_response(400, "BadUpload", str(e), getattr(e, "field", None))
    try:
        params = parse_params(up)
        runner_id = _form_runner(svc, up)
    except ValueError as e:
        svc.store.remove_files(aid)
        return error_response(422, "BadUpload", str(e), getattr(e, "field", None))
    infos = []
    for f in up.files.values():  # each clip must decode, whatever its name says
        try:
            infos.append(await run_in_threadpool(probe_video, f.path))
        except Exception as e:  # noqa: BLE001 - any decoder failure means "not a video we can read"
            svc.store.remove_files(aid)
            msg = str(e) if isinstance(e, InputError) else "The file is not a video we can decode."
            return error_response(415, "InputError", f"{f.filename or 'The file'}: {msg}")
    second = up.files.get("video2")
    if second is not None:
        params["second"] = {"input_file": second.path.name, "upload_name": second.filename, "video": infos[1],
                            "size_bytes": second.size}
    if runner_id is None:
        runner_id = svc.store.get_or_create_runner(up.get("runner"), params["height_cm"])
    row = svc.store.create_analysis(aid, runner_id=runner_id, input_file=up.path.name, upload_name=up.filename,
                                    params={**params, "video": infos[0], "size_bytes": up.size})
    svc.jobs.submit(aid)
    return JSONResponse(status_view(svc, row), status_code=202)


# ---- analyses --------------------------------------------------------------------------------
@router.get("/analyses", summary="List analyses, newest first")
def list_analyses(request: Request, runner_id: str | None = Query(None, pattern=r"^\d{1,19}$")):
    svc = _service(request)
    rid = parse_runner_id(runner_id) if runner_id is not None else None
    if runner_id is not None and rid is None:
        return []
    return [status_view(svc, r) for r in svc.store.list_analyses(rid)]


@router.get("/analyses/{aid}", summary="Status and progress of one analysis")
def get_analysis(request: Request, aid: str):
    svc = _service(request)
    return status_view(svc, _get_row(svc, aid))


@router.get("/analyses/{aid}/events", summary="Server-sent events: progress until done or failed")
async def analysis_events(request: Request, aid: str):
    svc = _service(request)
    _get_row(svc, aid)

    async def stream():
        last, last_sent = None, time.monotonic()
        while not await request.is_disconnected():
            row = await run_in_threadpool(svc.store.get_analysis, aid)
            if row is None:
                yield "event: deleted\ndata: {}\n\n"
                return
            view = await run_in_threadpool(status_view, svc, row)
            key = (view["status"], view["stage"], round(view["stage_fraction"], 3), round(view["progress"], 3),
                   view["queue_position"])
            if key != last:
                yield f"data: {json.dumps(view)}\n\n"
                last, last_sent = key, time.monotonic()
            elif time.monotonic() - last_sent > 15:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            if view["status"] in ("done", "failed"):
                return
            await asyncio.sleep(0.3)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _done_row(svc, aid: str) -> dict:
    row = _get_row(svc, aid)
    if row["status"] != "done":
        raise HTTPException(409, f"analysis is {row['status']}, not done")
    return row


def _out_file(svc, aid: str, rel: str) -> Path:
    """A file inside this analysis' output folder, or 404 (no '..', no absolute paths, no symlinks out)."""
    _done_row(svc, aid)
    base = svc.store.out_dir(aid).resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise HTTPException(404, "no such file")
    return target


@router.get("/analyses/{aid}/result", summary="analysis.json of a finished analysis")
def get_result(request: Request, aid: str):
    return FileResponse(_out_file(_service(request), aid, "analysis.json"), media_type="application/json")


@router.get("/analyses/{aid}/report", summary="The HTML report (redirects to the folder URL)")
def get_report_root(aid: str):
    if not valid_id(aid):
        raise HTTPException(404, "no such analysis")
    return RedirectResponse(f"/api/analyses/{aid}/report/", status_code=307)


@router.get("/analyses/{aid}/report/{path:path}", summary="report.html and the files it links to")
def get_report_file(request: Request, aid: str, path: str = ""):
    return FileResponse(_out_file(_service(request), aid, path or "report.html"))


@router.get("/analyses/{aid}/video", summary="Annotated video (HTTP Range supported); kind=original for the upload; "
                                             "clip=1 for the second clip of the run")
def get_video(request: Request, aid: str, kind: str = Query("annotated", pattern="^(annotated|original)$"),
              clip: int = Query(0, ge=0, le=len(FILE_FIELDS) - 1)):
    svc = _service(request)
    row = _get_row(svc, aid)
    if kind == "original":
        paths = svc.store.input_paths(row)
        if clip >= len(paths) or not paths[clip].is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(paths[clip], media_type=_video_type(paths[clip]))
    return FileResponse(_out_file(svc, aid, annotated_file(svc, aid, clip)), media_type="video/mp4")


def annotated_file(svc, aid: str, clip: int) -> str:
    """The annotated video's name for clip 0 or 1 (the report names the second after its view)."""
    from ..report import annotated_name

    if clip == 0:
        return annotated_name(0, "side")
    path = _out_file(svc, aid, "analysis.json")
    quality = json.loads(path.read_text()).get("quality") or []
    if clip >= len(quality):
        raise HTTPException(404, "no such clip")
    return annotated_name(clip, str(quality[clip].get("view", "")))


@router.get("/analyses/{aid}/frame", summary="First frame of an uploaded clip as JPEG (click it to choose the runner)",
            responses={200: {"content": {"image/jpeg": {}},
                             "description": "JPEG; X-Frame-Width / X-Frame-Height give the frame's own pixel size"}})
async def get_first_frame(request: Request, aid: str, clip: int = Query(0, ge=0, le=len(FILE_FIELDS) - 1)):
    svc = _service(request)
    paths = svc.store.input_paths(_get_row(svc, aid))
    if clip >= len(paths) or not paths[clip].is_file():
        raise HTTPException(404, "no such clip")
    try:
        jpeg, w, h = await run_in_threadpool(first_frame_jpeg, paths[clip])
    except InputError as e:
        return error_response(415, "InputError", str(e))
    return Response(jpeg, media_type="image/jpeg",
                    headers={"X-Frame-Width": str(w), "X-Frame-Height": str(h), "Cache-Control": "private, max-age=3600"})


def _video_type(path: Path) -> str:
    return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
            ".mkv": "video/x-matroska", ".3gp": "video/3gpp", ".avi": "video/x-msvideo"}.get(
        path.suffix.lower(), "application/octet-stream")


@router.post("/analyses/{aid}/retry", status_code=202, openapi_extra=_RETRY_SCHEMA,
             summary="Queue a failed analysis again, optionally following another runner")
async def retry_analysis(request: Request, aid: str):
    svc = _service(request)
    row = _get_row(svc, aid)
    if row["status"] != "failed":
        raise HTTPException(409, f"analysis is {row['status']}; only failed analyses can be retried")
    if not all(p.is_file() for p in svc.store.input_paths(row)):
        raise HTTPException(409, "the uploaded clip is gone; upload it again")
    body = await request.body()
    if body.strip():
        try:
            try:
                choice = json.loads(body)
            except json.JSONDecodeError:
                raise ValueError("the body must be JSON, e.g. {\"point\": [640, 360]}") from None
            if not isinstance(choice, dict):
                raise ValueError("send a JSON object such as {\"person\": 1} or {\"point\": [640, 360]}")
            person, point = parse_person(choice.get("person"), choice.get("point"))
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            return error_response(422, "BadUpload", str(e), getattr(e, "field", None))
        if person is not None or point is not None:
            if not svc.store.update_params(aid, {**row["params"], "person": person, "point": point}):
                raise HTTPException(409, "the analysis changed meanwhile; reload the page")
    svc.store.clear_output(aid)
    if not svc.store.requeue(aid):
        raise HTTPException(409, "the analysis changed meanwhile; reload the page")
    svc.jobs.submit(aid)
    return status_view(svc, svc.store.get_analysis(aid))


@router.delete("/analyses/{aid}", status_code=204, summary="Delete an analysis and its files")
def delete_analysis(request: Request, aid: str):
    svc = _service(request)
    _get_row(svc, aid)
    svc.store.delete_analysis(aid)


# ---- runners ---------------------------------------------------------------------------------
@router.get("/runners", summary="Runners with their number of analyses")
def list_runners(request: Request):
    return _service(request).store.list_runners()


def runner_or_404(svc, runner_id: str) -> dict:
    """The stored runner for a URL id; anything that is not one (letters, 20 digits) is a 404."""
    rid = parse_runner_id(runner_id)
    runner = svc.store.get_runner(rid) if rid is not None else None
    if runner is None:
        raise HTTPException(404, "no such runner")
    return runner


@router.get("/runners/{runner_id}", summary="One runner and their analyses, newest first")
def get_runner(request: Request, runner_id: str):
    svc = _service(request)
    runner = runner_or_404(svc, runner_id)
    return {**runner, "analyses": [status_view(svc, r) for r in svc.store.list_analyses(runner["id"])]}


_RUNNER_EDIT_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "properties": {
        "name": {"type": "string", "maxLength": 100},
        "height_cm": {"type": ["number", "null"], "minimum": 100, "maximum": 230,
                      "description": "the stored height; null clears it"}}}}}}}


@router.patch("/runners/{runner_id}", openapi_extra=_RUNNER_EDIT_SCHEMA,
              summary="Edit a runner's name or stored height (an upload never changes them)")
async def edit_runner(request: Request, runner_id: str):
    svc = _service(request)
    runner = runner_or_404(svc, runner_id)
    try:
        try:
            body = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise FieldError("body", "send a JSON object such as {\"height_cm\": 172}") from None
        if not isinstance(body, dict) or not set(body) <= {"name", "height_cm"}:
            raise FieldError("body", "send a JSON object with name and/or height_cm")
        height = body.get("height_cm")
        if height is not None:
            if isinstance(height, bool) or not isinstance(height, (int, float)) or not 100 <= height <= 230:
                raise FieldError("height_cm", "height_cm must be a number between 100 and 230 (or null)")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or not clean_name(name) or len(name) > 100):
            raise FieldError("name", "name must be 1 to 100 characters")
        try:
            svc.store.update_runner(runner["id"], name=name, height_cm=height,
                                    clear_height="height_cm" in body and height is None)
        except ValueError as e:
            return error_response(409, "BadUpload", str(e), "name")
    except FieldError as e:
        return error_response(422, "BadUpload", str(e), e.field)
    return svc.store.get_runner(runner["id"])


@router.delete("/runners/{runner_id}", status_code=204,
               summary="Delete a runner with all their analyses, videos and results")
def delete_runner(request: Request, runner_id: str):
    svc = _service(request)
    svc.store.delete_runner(runner_or_404(svc, runner_id)["id"])


@router.get("/compare", summary="Compare two finished analyses metric by metric (earlier -> later)")
def compare(request: Request, a: str, b: str):
    from .compare import compare_analyses

    svc = _service(request)
    first, second = sorted((_done_row(svc, a), _done_row(svc, b)), key=lambda r: r["created"])
    paths = [_out_file(svc, r["id"], "analysis.json") for r in (first, second)]
    return compare_analyses(paths[0], paths[1], (first["id"], second["id"]))
