"""Generated C3D files for the reader tests: each variant a lab may send, with known content.

Written with the `c3d` package's Writer (Intel only); DEC and MIPS copies are made by re-encoding
an integer-storage file's header, parameter section and data section (`to_processor`), which is
what those processors change: float encoding (DEC) or byte order (MIPS).
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np

RATE = 100.0
N_FRAMES = 60
CONTACT = (0.12, 0.40)  # s, the known contact on every generated plate
PEAK_N = 1500.0
FX_PEAK_N = 150.0
COP_LAB = np.array([1030.0, 480.0, 0.0])  # mm
TZ_NM = 4.0  # free moment about the vertical, N.m (ground reaction)
PLATE_CENTRE = np.array([1000.0, 500.0, 0.0])
# plate axes in the lab: x = lab X, y = -lab Y, z = -lab Z (into the floor, as the standard has it)
PLATE_R = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]).T
KISTLER_ABZ = (120.0, 200.0, -40.0)
CAL = np.array([[2.0, 0.02, 0.0, 0.0, 0.0, 0.0],
                [0.01, 2.0, 0.0, 0.0, 0.0, 0.0],
                [0.0, 0.03, 4.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 900.0, 5.0, 0.0],
                [0.0, 0.0, 0.0, 3.0, 700.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0, 500.0]])


def known_grf(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(G (T,3) lab N, CoP (3,) lab mm, Tz (T,) N.m) of the generated contact."""
    a, b = CONTACT
    s = np.where((t > a) & (t < b), np.sin(np.pi * np.clip((t - a) / (b - a), 0, 1)), 0.0)
    g = np.column_stack([FX_PEAK_N * s * np.cos(np.pi * (t - a) / (b - a)), np.zeros_like(t), PEAK_N * s])
    return g, COP_LAB, TZ_NM * s


def _channels(ptype: int, t: np.ndarray) -> np.ndarray:
    """Raw plate channels (T, n) that encode `known_grf` for a plate of ``ptype``."""
    g, cop, tz = known_grf(t)
    a = -g @ PLATE_R  # action on the plate, plate axes (R^T applied row-wise)
    cop_p = PLATE_R.T @ (cop - PLATE_CENTRE)
    tz_a = -(-tz)  # ground-reaction free moment about up = action moment about z (z = -up)
    m_s = np.cross(np.broadcast_to(cop_p, a.shape), a)
    m_s[:, 2] += tz_a * 1000.0  # N.mm
    if ptype == 1:
        return np.column_stack([a, np.full(len(t), cop_p[0]), np.full(len(t), cop_p[1]), tz_a * 1000.0])
    if ptype == 3:
        aa, bb, az0 = KISTLER_ABZ
        m_o = m_s - np.cross(a, np.array([0.0, 0.0, az0]))
        fx12 = (a[:, 0] - m_o[:, 2] / bb) / 2
        fx34 = (a[:, 0] + m_o[:, 2] / bb) / 2
        fy = a[:, 1] / 2
        m = np.array([[1, 1, 1, 1], [bb, bb, -bb, -bb], [-aa, aa, aa, -aa], [1, -1, 1, -1]], float)
        rhs = np.column_stack([a[:, 2], m_o[:, 0], m_o[:, 1], np.zeros(len(t))])
        fz = np.linalg.solve(m, rhs.T).T
        return np.column_stack([fx12, fx34, fy, fy, fz])
    origin = np.array([0.0, 0.0, 40.0])  # written with +z, as many labs do; the reader takes z <= 0
    m_o = m_s - np.cross(a, -origin)
    w = np.column_stack([a, m_o])
    if ptype == 4:
        w = w @ np.linalg.inv(CAL).T
    return w


def _markers(t: np.ndarray, n: int) -> tuple[list[str], np.ndarray]:
    """Labels and (T, n, 3) positions: a right heel on the plate's CoP during contact, others above."""
    labels = ["RHEE", "LHEE", "RASI", "LASI"] + [f"M{i:03d}" for i in range(4, n)]
    xyz = np.zeros((len(t), n, 3))
    xyz[:, 0] = COP_LAB + [0.0, 0.0, 40.0]
    xyz[:, 1] = COP_LAB + [-400.0, 250.0, 150.0]
    xyz[:, 2] = [1000.0, 400.0, 950.0]
    xyz[:, 3] = [1000.0, 650.0, 950.0]
    for i in range(4, n):
        xyz[:, i] = [100.0 + i, 200.0 + 2 * i, 300.0 + 3 * i]
    xyz += np.arange(len(t))[:, None, None] * np.array([1.0, 0.0, 0.0])
    return labels, xyz


def write(path: Path, *, storage: str = "float", plate_type: int | None = 2, analog_ratio: int = 10,
          n_markers: int = 6, gap: tuple[int, slice] | None = None, no_analog: bool = False,
          events: bool = False) -> Path:
    """One generated trial. ``gap=(marker, frames)`` marks those samples residual -1."""
    import c3d

    t = np.arange(N_FRAMES) / RATE
    labels, xyz = _markers(t, n_markers)
    scale = -0.1 if storage == "float" else 0.1
    w = c3d.Writer(point_rate=RATE, analog_rate=0.0 if no_analog else RATE * analog_ratio, point_scale=scale)
    pts = np.zeros((N_FRAMES, n_markers, 5), np.float32)
    pts[:, :, :3] = xyz
    pts[:, :, 3] = 0.5 if storage == "float" else 0.0
    if gap:
        pts[gap[1], gap[0], 3] = -1
    ana = np.zeros((N_FRAMES, 0, analog_ratio if not no_analog else 0), np.float32)
    ch_labels: list[str] = []
    if plate_type and not no_analog:
        ta = np.arange(N_FRAMES * analog_ratio) / (RATE * analog_ratio)
        raw = _channels(plate_type, ta)
        n_ch = raw.shape[1]
        ch_labels = [f"FP{plate_type}ch{i + 1}" for i in range(n_ch)]
        ana = raw.reshape(N_FRAMES, analog_ratio, n_ch).transpose(0, 2, 1).astype(np.float32)
    # add_frames() builds an object array that breaks when both arrays share a first dimension
    w._frames.extend((pts[i], ana[i]) for i in range(N_FRAMES))
    w.set_point_labels(labels[:255])
    if len(labels) > 255:  # C3D dimensions are one byte: the rest goes to LABELS2
        s, size = w.pack_labels(labels[255:])
        w.point_group.add_str("LABELS2", "more labels", s, size, len(labels) - 255)
        w.point_group.add_str("DESCRIPTIONS", "", " " * 255, 1, 255)
        w.point_group.add_str("DESCRIPTIONS2", "", " " * (len(labels) - 255), 1, len(labels) - 255)
    if not no_analog:
        if ch_labels:
            w.set_analog_labels(ch_labels)
        n_ch = len(ch_labels)
        if storage == "int" and n_ch:  # int16 counts: a scale per channel so each spans ~30000
            peak = np.abs(ana).max(axis=(0, 2))
            w.set_analog_scales(np.where(peak > 0, peak / 30000.0, 1.0))
            w.set_analog_offsets(np.full(n_ch, 7))
        elif n_ch:
            w.set_analog_scales(np.ones(n_ch))
            w.set_analog_offsets(np.zeros(n_ch))
        w.set_analog_general_scale(1.0)
    if plate_type and not no_analog:
        fp = w.add_group(w.numeric_key_next, "FORCE_PLATFORM", "force plates")
        n_ch = len(ch_labels)
        fp.add_array("USED", "", np.array([1], np.int16))
        fp.add_array("TYPE", "", np.array([plate_type], np.int16))
        fp.add("CHANNEL", "", 2, "<h", np.arange(1, n_ch + 1, dtype=np.int16).tobytes(), n_ch, 1)
        c = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], float) * [300.0, 200.0]
        corners = np.array([PLATE_CENTRE + PLATE_R @ [x, y, 0.0] for x, y in c], np.float32)
        fp.add("CORNERS", "", 4, "<f", corners.tobytes(), 3, 4, 1)
        origin = np.array(KISTLER_ABZ if plate_type == 3 else (0.0, 0.0, 40.0), np.float32)
        fp.add("ORIGIN", "", 4, "<f", origin.tobytes(), 3, 1)
        if plate_type == 4:
            fp.add("CAL_MATRIX", "", 4, "<f", CAL.astype(np.float32).T.tobytes(), 6, 6, 1)
    if events:
        ev = w.add_group(w.numeric_key_next, "EVENT", "events")
        ev.add_array("USED", "", np.array([2], np.int16))
        times = np.array([[0.0, CONTACT[0]], [0.0, CONTACT[1]]], np.float32)  # (minutes, seconds) x 2
        ev.add("TIMES", "", 4, "<f", times.tobytes(), 2, 2)
        s, size = w.pack_labels(["Foot Strike", "Foot Off"])
        ev.add_str("LABELS", "", s, size, 2)
        s, size = w.pack_labels(["Right", "Right"])
        ev.add_str("CONTEXTS", "", s, size, 2)
    with open(path, "wb") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no analog data" for static trials: intended
        w.write(fh)
    if no_analog:  # the writer always adds ANALOG: rename it away, as a lab without analog data has none
        rename_group(path, "ANALOG", "NOTANA")
    return path


def _records(buf: bytes | bytearray):
    """(offset of the name-length byte, name length, group id, offset of the 'next' word) for each
    group and parameter record in the parameter section."""
    i = (buf[0] - 1) * 512 + 4
    while True:
        nlen = struct.unpack_from("b", buf, i)[0]
        gid = struct.unpack_from("b", buf, i + 1)[0]
        if nlen == 0 or gid == 0:
            return
        j = i + 2 + abs(nlen)
        yield i, abs(nlen), gid, j
        (nxt,) = struct.unpack_from("<h", buf, j)
        if nxt == 0:
            return
        i = j + nxt


def rename_group(path: Path, old: str, new: str) -> None:
    buf = bytearray(path.read_bytes())
    for i, n, gid, _ in _records(buf):
        if gid < 0 and buf[i + 2:i + 2 + n] == old.encode():
            buf[i + 2:i + 2 + n] = new.encode()
    path.write_bytes(bytes(buf))


# -- processor re-encoding (integer storage only: the data section is int16) ----------------------


def _dec(x: float) -> bytes:
    """IEEE single -> DEC F-float bytes (bias 128 and 0.1f mantissa: the IEEE bits of 4x, words swapped)."""
    b = struct.pack("<f", 4.0 * x) if x else b"\0\0\0\0"
    return b[2:4] + b[0:2]


def to_processor(src: Path, dst: Path, processor: str) -> Path:
    """Copy an integer-storage Intel C3D as 'DEC' (floats re-encoded) or 'MIPS' (big-endian)."""
    buf = bytearray(src.read_bytes())
    p3 = (buf[0] - 1) * 512 + 3
    if processor == "MIPS":
        from runform.io.c3d import swap_byte_order

        out = swap_byte_order(buf, source_big_endian=False)
        out[p3] = 86
        dst.write_bytes(bytes(out))
        return dst
    out = bytearray(buf)

    def f32(off: int) -> None:
        (v,) = struct.unpack_from("<f", buf, off)
        out[off:off + 4] = _dec(v)

    for word in (7, 11):  # header floats: point scale, frame rate
        f32(2 * (word - 1))
    out[p3] = 85
    for _, _, gid, j in _records(buf):
        if gid > 0:
            bpe, nd = struct.unpack_from("bB", buf, j + 2)
            d0 = j + 4 + nd
            if bpe == 4:
                for e in range(int(np.prod(list(buf[j + 4:d0]))) if nd else 1):
                    f32(d0 + 4 * e)
    dst.write_bytes(bytes(out))
    return dst
