"""Receive a clip (and optionally a second clip of the same run): stream the multipart body to disk
with the size limit checked on every chunk and for each file, then prove each is a video by decoding
a frame (the file name proves nothing).

Starlette's own form parser spools the whole upload before the handler sees it, so a 5 GB file
would fill the disk before any limit applied; hence this small streaming parser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import InputError

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".mts"}
_TYPE_SUFFIX = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "video/3gpp": ".3gp",
                "video/x-matroska": ".mkv", "video/x-msvideo": ".avi", "video/x-m4v": ".m4v"}
MAX_FIELDS = 64
MAX_FIELD_BYTES = 16 * 1024
MAX_HEADER_BYTES = 64 * 1024  # a part header holds the file name: long names are shortened, not refused


class UploadTooLarge(Exception):
    pass


class BadUpload(Exception):
    pass


@dataclass
class UploadedFile:
    path: Path
    filename: str | None
    size: int = 0


@dataclass
class ParsedUpload:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)  # form field -> file, in arrival order

    def get(self, name: str) -> str | None:
        vals = self.fields.get(name)
        return vals[-1].strip() if vals else None

    # The first file field ('video') is the main clip.
    @property
    def main(self) -> UploadedFile | None:
        return self.files.get("video")

    @property
    def path(self) -> Path | None:
        return self.main.path if self.main else None

    @property
    def filename(self) -> str | None:
        return self.main.filename if self.main else None

    @property
    def size(self) -> int:
        return self.main.size if self.main else 0


def safe_suffix(filename: str | None, content_type: str | None) -> str:
    """Extension for the stored file from an allow-list; the user's file name is never a path."""
    suffix = Path(filename or "").suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return suffix
    return _TYPE_SUFFIX.get((content_type or "").split(";")[0].strip().lower(), ".video")


PARTIAL_SUFFIX = ".part"


def partial_path(path: Path) -> Path:
    """Where a clip is written while it arrives; a server killed meanwhile leaves only this (swept at start)."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _text(raw: bytes) -> str:
    """Header parameter bytes -> text: UTF-8 as browsers send it, else Latin-1 (old clients)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def display_name(filename: str) -> str:
    """The name shown for an upload: last path part, control characters (NUL) removed, at most 200
    characters with the extension kept. It is only displayed; the stored file is named by the id."""
    from .store import clean_name

    name = clean_name(Path(filename.replace("\\", "/")).name, limit=10_000)
    if len(name) > 200:
        suffix = Path(name).suffix[:12]
        name = name[:200 - len(suffix) - 1] + "…" + suffix
    return name


class _Receiver:
    """Callbacks for python_multipart: text fields to memory, the one file part straight to disk."""

    def __init__(self, dest_dir: Path, stem: str, max_bytes: int, file_fields: tuple[str, ...]):
        self.dest_dir, self.stem, self.max_bytes, self.file_fields = dest_dir, stem, max_bytes, file_fields
        self.result = ParsedUpload()
        self._file: UploadedFile | None = None
        self._headers: dict[str, str] = {}
        self._hname = b""
        self._hvalue = b""
        self._name: str | None = None
        self._buf: bytearray | None = None
        self._fh = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end}

    def part_begin(self) -> None:
        self._headers, self._name, self._buf = {}, None, None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def header_end(self) -> None:
        # Raw bytes: browsers send file names as UTF-8, which a str round trip through latin-1 would break.
        self._headers[self._hname.decode("latin-1").lower()] = bytes(self._hvalue)
        self._hname, self._hvalue = b"", b""

    def headers_finished(self) -> None:
        _, opts = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = _text(opts.get(b"name", b""))[:100]
        filename = opts.get(b"filename")
        if filename is not None and self._name in self.file_fields:
            if self._name in self.result.files:
                raise BadUpload(f"send one clip in the form field {self._name!r}")
            name = display_name(_text(filename))
            suffix = safe_suffix(name, self._headers.get("content-type", b"").decode("latin-1"))
            n = self.file_fields.index(self._name)
            self._file = UploadedFile(self.dest_dir / f"{self.stem}{'' if n == 0 else f'_{n + 1}'}{suffix}", name)
            self.result.files[self._name] = self._file
            self.dest_dir.mkdir(parents=True, exist_ok=True)
            self._fh = open(partial_path(self._file.path), "wb")
        elif filename is None:
            if sum(len(v) for v in self.result.fields.values()) >= MAX_FIELDS:
                raise BadUpload("too many form fields")
            self._buf = bytearray()
        # any other file part is ignored

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._fh is not None:
            self._file.size += end - start
            if self._file.size > self.max_bytes:  # the limit holds for each clip
                raise UploadTooLarge()
            self._fh.write(data[start:end])
        elif self._buf is not None:
            self._buf += data[start:end]
            if len(self._buf) > MAX_FIELD_BYTES:
                raise BadUpload(f"form field {self._name!r} is too long")

    def part_end(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        elif self._buf is not None and self._name:
            self.result.fields.setdefault(self._name, []).append(self._buf.decode("utf-8", "replace"))
        self._buf = None

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        for f in self.result.files.values():
            partial_path(f.path).unlink(missing_ok=True)
            f.path.unlink(missing_ok=True)

    def complete(self) -> None:
        """Every clip arrived whole: give each its real name (until then it is a .part file)."""
        for f in self.result.files.values():
            partial_path(f.path).replace(f.path)


async def receive_upload(content_type: str, content_length: str | None, body: AsyncIterator[bytes], *,
                         dest_dir: Path, stem: str, max_bytes: int,
                         file_fields: tuple[str, ...] = ("video",)) -> ParsedUpload:
    """Parse a multipart body chunk by chunk. `file_fields`: the form fields that may each carry one
    clip (the first is required). Raises UploadTooLarge the moment a file passes `max_bytes` (the
    partial files are deleted) and BadUpload for malformed requests."""
    ctype, opts = parse_options_header(content_type or "")
    boundary = opts.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise BadUpload("send the clip as multipart/form-data")
    if content_length and content_length.isdigit() and int(content_length) > len(file_fields) * max_bytes + 1024 * 1024:
        raise UploadTooLarge()
    rec = _Receiver(dest_dir, stem, max_bytes, tuple(file_fields))
    try:
        parser = MultipartParser(boundary, rec.callbacks(), max_header_size=MAX_HEADER_BYTES)
    except TypeError:  # python-multipart before the header limit existed: no limit to raise
        parser = MultipartParser(boundary, rec.callbacks())
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except BaseException as e:
        rec.abort()
        if isinstance(e, (UploadTooLarge, BadUpload)):
            raise
        if isinstance(e, Exception):
            raise BadUpload(f"the upload could not be read ({type(e).__name__})") from e
        raise
    if rec.result.path is None:
        rec.abort()
        raise BadUpload(f"no clip in the upload: send it in the form field {file_fields[0]!r}")
    if rec._fh is not None:  # body ended inside the file part
        rec.abort()
        raise BadUpload("the upload was cut off; try again")
    rec.complete()
    return rec.result


def first_frame_jpeg(path: Path, max_side: int = 1280, quality: int = 85) -> tuple[bytes, int, int]:
    """The clip's first decoded frame as JPEG (the frame --point refers to), scaled to at most
    `max_side`, with the frame's own width and height (the click is mapped back to those pixels)."""
    import cv2

    from ..video import open_video

    reader = open_video(path)
    frame = None
    for _idx, _t, img in reader:
        if img is not None and getattr(img, "size", 0):
            frame = img
            break
    close = getattr(reader, "close", None)
    if close:
        close()
    if frame is None:
        raise InputError("The file holds no video frames we can decode.")
    h, w = frame.shape[:2]
    s = min(1.0, max_side / max(h, w))
    small = cv2.resize(frame, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else frame
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover
        raise InputError("The first frame could not be encoded.")
    return buf.tobytes(), w, h


def probe_video(path: Path) -> dict:
    """Decode the first frame; raises InputError when the file is not a readable video."""
    try:
        from ..video import open_video
    except ImportError:
        open_video = None
    if open_video is not None:
        reader = open_video(path)
        for _idx, _t, frame in reader:
            if frame is not None and getattr(frame, "size", 0):
                break
        else:
            raise InputError("The file holds no video frames we can decode.")
        close = getattr(reader, "close", None)
        if close:
            close()
        info = reader.info
        return _finite({"fps": info.fps, "n_frames": info.n_frames, "duration_s": info.duration,
                        "width": info.width, "height": info.height})
    return _probe_cv2(path)


def _finite(info: dict) -> dict:
    """JSON has no NaN: unknown values become None."""
    return {k: (float(v) if k in ("fps", "duration_s") else int(v)) if v is not None and math.isfinite(v) else None
            for k, v in info.items()}


def _probe_cv2(path: Path) -> dict:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None or not frame.size:
            raise InputError("The file is not a video we can decode.")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return _finite({"fps": fps, "n_frames": n, "duration_s": n / fps if fps > 0 else None,
                        "width": frame.shape[1], "height": frame.shape[0]})
    finally:
        cap.release()
