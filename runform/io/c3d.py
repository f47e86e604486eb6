"""C3D motion-capture files (markers, analog channels, force-plate geometry, lab events) via ezc3d.

Why a wrapper: ezc3d parses every storage variant (integer/float, Intel/DEC/MIPS, any analog
rate ratio) into raw arrays and parameter tables; everyone downstream wants marker arrays in
mm with NaN gaps, analog channels by name, plate geometry per plate and the lab's own events,
and a one-line message that names the part of a broken file. Force plates -> newtons: `forces`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ._util import one_line

#: C3D processor byte -> name (the parameter section's 4th byte).
PROCESSORS = {84: "Intel", 85: "DEC", 86: "MIPS"}
_LENGTH_TO_MM = {"m": 1000.0, "cm": 10.0, "mm": 1.0}
EVENT_COLUMNS = ["context", "label", "time_s", "frame", "description"]


@dataclass
class C3DData:
    """Markers (mm, lab axes, NaN = missing) and analog channels of one C3D file."""

    markers: dict[str, np.ndarray]  # name -> (T, 3)
    marker_rate: float
    analog: pd.DataFrame  # time_s + one column per analog channel (after ANALOG scale/offset)
    analog_rate: float
    labels: list[str]
    units: str = "mm"
    first_frame: int = 1  # 1-based number of the first stored frame in the capture
    analog_units: dict[str, str] = field(default_factory=dict)
    force_plates: list[dict[str, Any]] = field(default_factory=list)  # see `_plates`
    source: str = ""
    #: the lab's own events (EVENT group): context ('Left'/'Right'/...), label ('Foot Strike'),
    #: time_s from this file's first frame, frame (nearest 0-based marker frame), description.
    #: Reference only: never used as runform's events.
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS))
    processor: str = "Intel"
    storage: str = "float"  # 'float' or 'int' (POINT:SCALE < 0 = float)

    @property
    def n_frames(self) -> int:
        return len(next(iter(self.markers.values()))) if self.markers else 0

    @property
    def time(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.marker_rate

    @property
    def duration(self) -> float:
        return self.n_frames / self.marker_rate


# -- raw-byte checks: name the broken part before the parser sees it -----------------------------


def _check_bytes(path: Path) -> tuple[str, int]:
    """(processor name, frame count the header promises); InputError naming the header /
    parameter section when they are broken."""
    name = path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            if len(head) < 512:
                raise InputError(f"C3D file {name}: header block is {len(head)} bytes, a C3D header is 512 "
                                 "(empty or truncated file).")
            if head[1] != 0x50:
                raise InputError(f"C3D file {name}: header byte 2 is {head[1]}, a C3D file has 80 there "
                                 "(not a C3D file).")
            fh.seek((head[0] - 1) * 512 if head[0] >= 1 else 0)
            phead = fh.read(4)
    except FileNotFoundError as e:
        raise InputError(f"C3D file not found: {path}") from e
    except IsADirectoryError as e:
        raise InputError(f"{path} is a folder, not a C3D file.") from e
    if head[0] < 2:
        raise InputError(f"C3D file {name}: header points to parameter block {head[0]}; it must be >= 2.")
    if len(phead) < 4:
        raise InputError(f"C3D file {name}: parameter section (block {head[0]}) is missing: file truncated.")
    if phead[3] not in PROCESSORS:
        raise InputError(f"C3D file {name}: parameter section has processor type {phead[3]}; "
                         "a C3D file has 84 (Intel), 85 (DEC) or 86 (MIPS).")
    first, last = struct.unpack_from(">HH" if phead[3] == 86 else "<HH", head, 6)
    return PROCESSORS[phead[3]], last - first + 1


def swap_byte_order(buf: bytes, *, source_big_endian: bool) -> bytearray:
    """The same C3D with the other byte order (MIPS <-> Intel): header words, parameter records
    and the data section. ezc3d reads Intel and DEC but not MIPS, so MIPS is re-encoded first.
    The processor byte is left as it was; the caller sets it."""
    src = bytes(buf)
    out = bytearray(src)
    end = ">" if source_big_endian else "<"

    def swap(off: int, n: int) -> None:
        if off + n <= len(src):
            out[off:off + n] = src[off:off + n][::-1]

    for word in (2, 3, 4, 5, 6, 9, 10, 148, 149, 150, 151):  # header integer words (1-based)
        swap(2 * (word - 1), 2)
    for word in [7, 11] + list(range(153, 189, 2)):  # header floats: scale, rate, event times
        swap(2 * (word - 1), 4)
    i = (src[0] - 1) * 512 + 4
    while i + 2 <= len(src):
        nlen, gid = struct.unpack_from("bb", src, i)
        if nlen == 0 or gid == 0:
            break
        j = i + 2 + abs(nlen)
        (nxt,) = struct.unpack_from(end + "h", src, j)
        swap(j, 2)
        if gid > 0:
            bpe, nd = struct.unpack_from("bB", src, j + 2)
            dims = src[j + 4:j + 4 + nd]
            d0 = j + 4 + nd
            if bpe in (2, 4):
                for e in range(int(np.prod(list(dims))) if nd else 1):
                    swap(d0 + bpe * e, bpe)
        if nxt == 0:
            break
        i = j + nxt
    (scale,) = struct.unpack_from(end + "f", src, 12)
    (start,) = struct.unpack_from(end + "H", src, 16)
    width = 4 if scale < 0 else 2  # float storage: 4-byte words; integer storage: 2-byte words
    for off in range((start - 1) * 512, len(src) - width + 1, width):
        swap(off, width)
    return out


def _intel_copy(path: Path) -> Path:
    """A temporary Intel re-encoding of a MIPS file (deleted by the caller)."""
    import tempfile

    buf = swap_byte_order(path.read_bytes(), source_big_endian=True)
    buf[(buf[0] - 1) * 512 + 3] = 84
    with tempfile.NamedTemporaryFile(suffix=".c3d", delete=False) as fh:
        fh.write(bytes(buf))
    return Path(fh.name)


# -- parameters ------------------------------------------------------------------------------------


def _value(params: Any, group: str, key: str) -> Any:
    """A parameter's value (ndarray or list[str]), or None when the group or parameter is absent."""
    g = params[group] if group in params else None
    if not g or key not in g or not isinstance(g[key], dict):
        return None
    return g[key].get("value")


def _strings(params: Any, group: str, key: str) -> list[str]:
    """Label-style strings: KEY, then KEY2, KEY3... (C3D's way past 255 entries)."""
    out: list[str] = []
    for k in [key] + [f"{key}{i}" for i in range(2, 100)]:
        v = _value(params, group, k)
        if v is None:
            if k != key:
                break
            continue
        out += [str(s).strip() for s in np.atleast_1d(v).ravel()]
    return out


def _number(params: Any, group: str, key: str, default: float | None = None) -> float | None:
    v = _value(params, group, key)
    a = np.asarray(v, float).ravel() if v is not None and not isinstance(v, list) else np.array([])
    return float(a[0]) if a.size else default


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n or "channel"
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}_{k}")
        seen[n] = k + 1
    return out


def _plates(params: Any, n_analog: int, to_mm: float, name: str) -> list[dict[str, Any]]:
    """FORCE_PLATFORM group -> per plate: ``type``, ``channels`` (0-based analog columns),
    ``cal_matrix`` (6x6, raw -> force/moment, or None), ``corners`` (4, 3 lab mm), ``origin``
    (3, plate axes, mm), ``cop_poly`` (type 3 correction, 12 numbers or None), ``error`` (why
    the plate's parameters cannot be used; '' when they can)."""
    used = _number(params, "FORCE_PLATFORM", "USED", 0.0) or 0.0
    types = _value(params, "FORCE_PLATFORM", "TYPE")
    if used <= 0 or types is None or np.size(types) == 0:
        return []
    types = np.asarray(types, int).ravel()

    def arr(key: str) -> np.ndarray:
        v = _value(params, "FORCE_PLATFORM", key)
        return np.asarray(v if v is not None else [], float)

    ch, corners, origin, cal, poly = (arr(k) for k in ("CHANNEL", "CORNERS", "ORIGIN", "CAL_MATRIX", "FPCOPPOLY"))
    if ch.ndim == 1:
        ch = ch[:, None]
    if corners.ndim == 2:
        corners = corners[..., None]
    if origin.ndim == 1:
        origin = origin[:, None]
    plates = []
    for i in range(min(int(used), len(types))):
        where = f"C3D file {name}: FORCE_PLATFORM plate {i + 1}"
        chans = [int(c) - 1 for c in ch[:, i]] if ch.ndim == 2 and ch.shape[1] > i else []
        plate: dict[str, Any] = {"type": int(types[i]), "channels": chans, "cal_matrix": None,
                                 "corners": None, "origin": np.zeros(3), "cop_poly": None, "error": ""}
        if not chans:
            plate["error"] = f"{where}: no CHANNEL column for it (CHANNEL is {list(ch.shape)})."
        if corners.ndim == 3 and corners.shape[:2] == (3, 4) and corners.shape[2] > i:
            plate["corners"] = corners[:, :, i].T * to_mm
        if origin.ndim == 2 and origin.shape[0] == 3 and origin.shape[1] > i:
            plate["origin"] = origin[:, i] * to_mm
        if cal.ndim == 3 and cal.shape[:2] == (6, 6) and cal.shape[2] > i:
            plate["cal_matrix"] = cal[:, :, i]  # first index = output row (column-major storage)
        elif cal.ndim == 2 and cal.shape == (6, 6) and i == 0:
            plate["cal_matrix"] = cal
        if poly.size >= 12 * (i + 1):
            plate["cop_poly"] = np.asarray(poly, float).reshape(-1, order="F")[12 * i:12 * (i + 1)]
        if any(c >= n_analog or c < -1 for c in chans):  # kept, so the markers still read
            plate["error"] = (f"{where}: CHANNEL {[c + 1 for c in chans]} names analog channels "
                              f"outside the {n_analog} stored.")
        plates.append(plate)
    return plates


def _events(params: Any, t0: float, rate: float) -> pd.DataFrame:
    """EVENT group -> table; TIMES holds (minutes, seconds) from the capture's start."""
    n = int(_number(params, "EVENT", "USED", 0.0) or 0)
    times = _value(params, "EVENT", "TIMES")
    if n <= 0 or times is None or np.size(times) == 0:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    times = np.asarray(times, float)
    times = times.reshape(2, -1) if times.ndim != 2 else times
    sec = times[0] * 60.0 + times[1]
    labels = _strings(params, "EVENT", "LABELS")
    contexts = _strings(params, "EVENT", "CONTEXTS")
    desc = _strings(params, "EVENT", "DESCRIPTIONS")
    rows = []
    for i in range(min(n, len(sec))):
        t = float(sec[i] - t0)
        rows.append({"context": contexts[i] if i < len(contexts) else "",
                     "label": labels[i] if i < len(labels) else "",
                     "time_s": t, "frame": int(round(t * rate)),
                     "description": desc[i] if i < len(desc) else ""})
    return pd.DataFrame(rows, columns=EVENT_COLUMNS).sort_values("time_s", kind="stable").reset_index(drop=True)


# -- reader ---------------------------------------------------------------------------------------


def load_c3d(path: str | Path) -> C3DData:
    """Read markers, analog channels, force-plate geometry and lab events.

    A marker sample with residual < 0 or an exact (0, 0, 0) is a gap (NaN). Analog channels
    come with ANALOG:SCALE, GEN_SCALE and OFFSET applied (volts or the unit the lab set).
    """
    try:
        import ezc3d
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise InputError("reading C3D needs the ezc3d package (pip install ezc3d).") from e

    path = Path(path)
    name = path.name
    processor, header_frames = _check_bytes(path)
    tmp = None
    try:
        tmp = _intel_copy(path) if processor == "MIPS" else None
        c = ezc3d.c3d(str(tmp or path))
        params, header = c["parameters"], c["header"]
        pts = np.asarray(c["data"]["points"], float)  # (4, M, T)
        res = np.asarray(c["data"]["meta_points"]["residuals"], float)  # (1, M, T)
        ana = np.asarray(c["data"]["analogs"], float)  # (1, C, N)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - the parser reports many kinds of damage
        part = "parameter section" if "format" in str(e).lower() or "param" in str(e).lower() else "file"
        raise InputError(f"cannot read C3D file {name}: {part} is damaged ({one_line(e)}).",
                         hint="Is it a complete, valid C3D file?") from e
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)

    marker_rate = float(header["points"]["frame_rate"] or _number(params, "POINT", "RATE", 0.0) or 0.0)
    if not marker_rate > 0:
        raise InputError(f"C3D file {name}: POINT:RATE / header frame rate is {marker_rate:g} Hz; it must be > 0.")
    n_used = int(_number(params, "POINT", "USED", pts.shape[1]) or 0)
    labels = _strings(params, "POINT", "LABELS")[:n_used]
    if len(labels) < pts.shape[1]:
        labels += [f"point{i + 1}" for i in range(len(labels), pts.shape[1])]
    labels = _unique(labels[: pts.shape[1]])
    first0 = int(header["points"]["first_frame"])
    start = _value(params, "TRIAL", "ACTUAL_START_FIELD")
    if start is not None and np.size(start) >= 2:  # two 16-bit words: past the header's 65535 limit
        s = np.asarray(start, int).ravel()
        first0 = int((s[0] & 0xFFFF) + (s[1] & 0xFFFF) * 65536) - 1
    n_frames = pts.shape[2]
    if n_frames == 0:
        raise InputError(f"C3D file {name} holds no frames (data section empty).")
    expected = header_frames  # the parser trims its own header to what it could read
    if 0 < n_frames < expected and _value(params, "POINT", "LONG_FRAMES") is None:
        raise InputError(f"C3D file {name}: data section is truncated: the header says {expected} frames, "
                         f"only {n_frames} could be read.")
    units = (_strings(params, "POINT", "UNITS") or ["mm"])[0].lower()
    to_mm = _LENGTH_TO_MM.get(units, 1.0)
    xyz = np.moveaxis(pts[:3], 0, -1).transpose(1, 0, 2).copy()  # (T, M, 3)
    r = res[0].T if res.size else np.zeros(xyz.shape[:2])
    missing = (r < 0) | np.all(xyz == 0, axis=2) | ~np.isfinite(xyz).all(axis=2)
    xyz[missing] = np.nan
    markers = {lbl: xyz[:, i] * to_mm for i, lbl in enumerate(labels)}

    n_ch = ana.shape[1] if ana.ndim == 3 else 0
    analog_rate = float(header["analogs"]["frame_rate"] or 0.0) if n_ch else 0.0
    analog = pd.DataFrame()
    alabels = _unique((_strings(params, "ANALOG", "LABELS") + [""] * n_ch)[:n_ch])
    aunits = (_strings(params, "ANALOG", "UNITS") + [""] * n_ch)[:n_ch]
    if n_ch and ana.shape[2]:
        analog = pd.DataFrame(ana[0].T, columns=alabels)
        analog.insert(0, "time_s", np.arange(ana.shape[2]) / analog_rate)
    plates = _plates(params, n_ch, to_mm, name) if n_ch else []
    scale = _number(params, "POINT", "SCALE", -1.0)
    return C3DData(markers=markers, marker_rate=marker_rate, analog=analog, analog_rate=analog_rate,
                   labels=labels, units="mm", first_frame=first0 + 1,
                   analog_units=dict(zip(alabels, aunits)), force_plates=plates, source=str(path),
                   events=_events(params, first0 / marker_rate, marker_rate), processor=processor,
                   storage="float" if (scale or -1.0) < 0 else "int")
