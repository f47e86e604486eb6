"""C3D reading and force plates: a generated corpus with known content, then every real file.

Generated files (tests/c3d_corpus.py) carry one known contact: a half-sine vertical ground
reaction of 1500 N from 0.12 to 0.40 s, 150 N fore-aft, a fixed centre of pressure and a 4 N.m
free moment, stored as plate types 1-4. The real files are the lab recordings of ../shared/data.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from c3d_corpus import CONTACT, COP_LAB, N_FRAMES, PEAK_N, known_grf, to_processor, write
from c3d_corpus import _records
from conftest import SHARED_DATA, shared_path

from runform.errors import InputError
from runform.io.c3d import load_c3d
from runform.io.forces import label_side, lab_stances, plate_contacts, plate_forces

# 20 N threshold on a 1500 N half-sine over 280 ms: crossed 1.19 ms after the true start.
LAG_S = (CONTACT[1] - CONTACT[0]) / np.pi * np.arcsin(20.0 / PEAK_N)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("c3d")
    return d


# -- generated corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["float", "int"])
@pytest.mark.parametrize("ptype", [1, 2, 3, 4])
def test_plate_types_give_the_known_ground_reaction(corpus, storage, ptype):
    d = load_c3d(write(corpus / f"t{ptype}{storage}.c3d", storage=storage, plate_type=ptype))
    assert d.storage == storage and d.force_plates[0]["type"] == ptype
    f = plate_forces(d, 0)
    g, cop, tz = known_grf(f.time_s.to_numpy())
    # float storage is exact to float32; int16 storage quantises each channel to 1/30000 of its peak
    tol_n, tol_mm, tol_nm = (0.01, 0.01, 0.001) if storage == "float" else (0.5, 0.5, 0.01)
    assert np.abs(f[["fx", "fy", "fz"]].to_numpy() - g).max() < tol_n
    on = f.fz_vertical.to_numpy() > 100
    assert np.abs(f[["cop_x", "cop_y", "cop_z"]].to_numpy()[on] - cop).max() < tol_mm
    assert np.abs(f.tz.to_numpy()[on] - tz[on]).max() < tol_nm
    assert f.attrs["up"] == pytest.approx([0, 0, 1]) and not f.attrs["sign_flipped"]
    pc = plate_contacts(d)
    assert len(pc) == 1 and pc.foot[0] == "right" and pc.plate[0] == 1
    assert pc.ic_time[0] == pytest.approx(CONTACT[0] + LAG_S, abs=0.001)
    assert pc.to_time[0] == pytest.approx(CONTACT[1] - LAG_S, abs=0.001)


@pytest.mark.parametrize("ptype", [2, 3, 4])
def test_plate_forces_agree_with_ezc3d_module(corpus, ptype):
    """ezc3d's own force-plate module is an independent implementation of the same standard."""
    ezc3d = pytest.importorskip("ezc3d")
    p = write(corpus / f"ez{ptype}.c3d", plate_type=ptype)
    pf = ezc3d.c3d(str(p), extract_forceplat_data=True)["data"]["platform"][0]
    f = plate_forces(load_c3d(p), 0)
    on = f.fz_vertical.to_numpy() > 100
    # ezc3d reports the action on the plate; we report the ground reaction (its negative)
    assert np.abs(f[["fx", "fy", "fz"]].to_numpy() + pf["force"].T).max() < 1e-3
    assert np.abs(f[["cop_x", "cop_y", "cop_z"]].to_numpy()[on] - pf["center_of_pressure"].T[on]).max() < 1e-3


def test_static_trial_without_analog_group_reads(corpus):
    p = write(corpus / "static.c3d", no_analog=True, plate_type=None)
    b = p.read_bytes()
    groups = [bytes(b[i + 2:i + 2 + n]) for i, n, gid, _ in _records(b) if gid < 0]
    assert b"ANALOG" not in groups and b"POINT" in groups
    d = load_c3d(p)
    assert d.analog.empty and d.analog_rate == 0.0 and d.force_plates == []
    assert d.n_frames == N_FRAMES and d.markers["RHEE"][0] == pytest.approx(COP_LAB + [0, 0, 40])
    with pytest.raises(InputError, match="no force plates"):
        plate_forces(d, 0)
    assert plate_contacts(d).empty


def test_long_label_lists_use_labels2(corpus):
    d = load_c3d(write(corpus / "many.c3d", n_markers=300, plate_type=None))
    assert len(d.labels) == 300 and d.labels[254] == "M254" and d.labels[-1] == "M299"
    assert d.markers["M299"][0] == pytest.approx([399.0, 798.0, 1197.0])


def test_gaps_events_and_analog_rate_multiples(corpus):
    d = load_c3d(write(corpus / "gap.c3d", gap=(1, slice(10, 20)), events=True))
    assert np.isnan(d.markers["LHEE"][10:20]).all() and np.isfinite(d.markers["LHEE"][:10]).all()
    assert d.events[["context", "label"]].values.tolist() == [["Right", "Foot Strike"], ["Right", "Foot Off"]]
    assert d.events.time_s.to_numpy() == pytest.approx(CONTACT, abs=1e-6)
    st = lab_stances(d)
    assert st.values.tolist() == [["right", pytest.approx(CONTACT[0]), pytest.approx(CONTACT[1])]]
    for ratio in (1, 20):
        a = load_c3d(write(corpus / f"r{ratio}.c3d", analog_ratio=ratio, storage="int"))
        assert a.analog_rate == 100.0 * ratio and len(a.analog) == N_FRAMES * ratio
        assert np.diff(a.analog.time_s).mean() == pytest.approx(1 / a.analog_rate)


@pytest.mark.parametrize("proc", ["DEC", "MIPS"])
def test_dec_and_mips_files_read_like_intel(corpus, proc):
    c3d = pytest.importorskip("c3d")
    intel = write(corpus / f"{proc}src.c3d", storage="int", plate_type=3)
    other = to_processor(intel, corpus / f"{proc}.c3d", proc)
    with warnings.catch_warnings(), open(other, "rb") as fh:  # the generator checked by another reader
        warnings.simplefilter("ignore")
        r = c3d.Reader(fh)
        assert r.proc_type == proc and r.point_rate == 100.0
    a, b = load_c3d(intel), load_c3d(other)
    assert b.processor == proc and a.processor == "Intel"
    assert all(np.array_equal(a.markers[k], b.markers[k], equal_nan=True) for k in a.markers)
    assert np.allclose(a.analog.to_numpy(), b.analog.to_numpy())
    assert plate_contacts(b).ic_time.tolist() == pytest.approx(plate_contacts(a).ic_time.tolist())


def test_mips_float_storage(corpus):
    from runform.io.c3d import swap_byte_order

    intel = write(corpus / "mf.c3d", storage="float", plate_type=2)
    buf = swap_byte_order(intel.read_bytes(), source_big_endian=False)
    buf[(buf[0] - 1) * 512 + 3] = 86
    (corpus / "mf_mips.c3d").write_bytes(bytes(buf))
    a, b = load_c3d(intel), load_c3d(corpus / "mf_mips.c3d")
    assert b.processor == "MIPS" and b.storage == "float"
    assert np.array_equal(a.markers["RHEE"], b.markers["RHEE"]) and np.allclose(a.analog, b.analog)


def _broken(corpus: Path) -> dict[str, tuple[bytes, str]]:
    good = write(corpus / "good.c3d", plate_type=2).read_bytes()
    p3 = (good[0] - 1) * 512 + 3
    bad_proc = good[:p3] + b"\x63" + good[p3 + 1:]
    return {
        "empty": (b"", "header block is 0 bytes"),
        "text": (b"hello, not a c3d file\n" * 40, "header byte 2"),
        "processor": (bad_proc, "processor type 99"),
        "params_cut": (good[:(good[0] - 1) * 512 + 2], "parameter section"),
        "data_cut": (good[:len(good) - 2048], "data section is truncated"),
    }


@pytest.mark.parametrize("case", ["empty", "text", "processor", "params_cut", "data_cut"])
def test_broken_files_name_the_broken_part(corpus, case):
    data, part = _broken(corpus)[case]
    p = corpus / f"broken_{case}.c3d"
    p.write_bytes(data)
    with pytest.raises(InputError) as e:
        load_c3d(p)
    msg = str(e.value)
    assert part in msg and "\n" not in msg and p.name in msg


def test_bad_plate_channel_reads_markers_and_names_the_parameter(corpus):
    p = write(corpus / "badplate.c3d", plate_type=2)
    raw = bytearray(p.read_bytes())
    i = raw.index(b"CHANNEL")  # name, 'next' word, bytes/element, 2 dims, 2 dim sizes, then data
    raw[i + 13:i + 15] = (99).to_bytes(2, "little")  # first channel -> 99 (6 are stored)
    p.write_bytes(bytes(raw))
    d = load_c3d(p)
    assert d.n_frames == N_FRAMES and "RHEE" in d.markers
    with pytest.raises(InputError, match=r"FORCE_PLATFORM plate 1: CHANNEL \[99, 2, 3, 4, 5, 6\] names analog "
                                         r"channels outside the 6 stored"):
        plate_forces(d, 0)
    assert plate_contacts(d).empty


def test_unsupported_plate_type_is_refused_by_name(corpus):
    p = write(corpus / "t5.c3d", plate_type=2)
    d = load_c3d(p)
    d.force_plates[0]["type"] = 5
    with pytest.raises(InputError, match="type 5; runform converts types 1, 2, 3 and 4"):
        plate_forces(d, 0)
    assert plate_contacts(d).empty  # other plates of a file still give contacts; this one is skipped


def test_label_side():
    assert [label_side(s) for s in ("LHEE", "R.Heel", "Left_Toe", "r_calc", "HEEL_R", "C7", "LASIS", "Lateral")] == \
        ["left", "right", "left", "right", "right", "", "left", ""]


# -- the real files ------------------------------------------------------------------------------

REAL = sorted((SHARED_DATA / "mocap").glob("*/*.c3d")) if (SHARED_DATA / "mocap").exists() else []


@pytest.mark.realdata
@pytest.mark.parametrize("path", REAL or [None], ids=[p.parent.name + "/" + p.name for p in REAL] or ["none"])
def test_every_shared_c3d_reads(path):
    if path is None:
        pytest.skip("shared data not present")
    d = load_c3d(path)
    assert d.n_frames > 0 and d.marker_rate > 0 and len(d.markers) >= 28
    assert all(np.isfinite(v).any() for v in list(d.markers.values())[:20])
    if "static" in path.name:
        assert d.n_frames <= 200  # a second or so of standing
    for k in range(len(d.force_plates)):
        f = plate_forces(d, k)
        assert len(f) == len(d.analog) and np.isfinite(f.fz_vertical).all()


@pytest.mark.realdata
def test_sprint_plate_contacts_match_lab_events():
    """Dorn et al. 2012 JA1: 4 footfalls on 4 of 8 type-2 plates; lab events within a few ms."""
    d = load_c3d(shared_path("mocap", "sprint_dorn2012", "JA1Gait35.c3d"))
    assert [p["type"] for p in d.force_plates] == [2] * 8 and len(d.events) == 10
    pc = plate_contacts(d)
    assert pc.plate.tolist() == [2, 4, 7, 8] and pc.foot.tolist() == ["right", "left", "right", "left"]
    assert pc.contact_s.between(0.115, 0.123).all()
    assert (pc.foot_dist_mm < 60).all()  # the CoP lies under a marker of the named foot
    lab = lab_stances(d).dropna()
    assert lab.foot.tolist() == pc.foot.tolist()
    dic = (pc.ic_time.to_numpy() - lab.ic_time.to_numpy()) * 1000
    dto = (pc.to_time.to_numpy() - lab.to_time.to_numpy()) * 1000
    # measured: IC +0.7/+2.8/+2.8/+0.8 ms, TO -4.0/-4.4/-1.9/-0.9 ms
    assert np.abs(dic).max() <= 6.0 and np.abs(dto).max() <= 6.0


@pytest.mark.realdata
def test_qualisys_contact_from_type3_plates():
    d = load_c3d(shared_path("mocap", "qualisys_running_heelstrike", "Running_0002.c3d"))
    assert [p["type"] for p in d.force_plates] == [3, 3] and len(d.force_plates[0]["channels"]) == 8
    pc = plate_contacts(d)
    assert len(pc) == 1 and pc.plate[0] == 1 and pc.foot[0] == "right"
    assert pc.ic_time[0] == pytest.approx(0.038, abs=0.003) and pc.to_time[0] == pytest.approx(0.320, abs=0.004)
    assert pc.peak_n[0] == pytest.approx(1393, abs=5)


@pytest.mark.realdata
@pytest.mark.parametrize("rel", ["sprint_dorn2012/JA1Gait35.c3d", "qualisys_running_heelstrike/Running_0002.c3d",
                                 "fukuchi2017_rbds001/RBDS001runT35.c3d"])
def test_real_plates_agree_with_ezc3d_module(rel):
    ezc3d = pytest.importorskip("ezc3d")
    p = shared_path("mocap", *rel.split("/"))
    d = load_c3d(p)
    ref = ezc3d.c3d(str(p), extract_forceplat_data=True)["data"]["platform"]
    for k, pf in enumerate(ref):
        f = plate_forces(d, k)
        # same magnitude; the sign follows each file's stored convention (see attrs sign_flipped)
        assert np.abs(np.abs(f[["fx", "fy", "fz"]].to_numpy()) - np.abs(pf["force"].T)).max() < 1e-6
        on = f.fz_vertical.to_numpy() > 100
        if on.any():
            assert np.abs(f[["cop_x", "cop_y", "cop_z"]].to_numpy()[on] - pf["center_of_pressure"].T[on]).max() < 1e-6


@pytest.mark.realdata
def test_treadmill_feet_from_cop_agree_with_foot_heights():
    """RBDS001 T35, one treadmill plate: the foot nearest the CoP vs the lower foot (`assign_feet`)."""
    from runform.io.mocap import ground_truth_stances

    p = shared_path("mocap", "fukuchi2017_rbds001", "RBDS001runT35.c3d")
    pc = plate_contacts(load_c3d(p), threshold_n=30.0, min_contact_s=0.08)
    _, gt = ground_truth_stances(p)
    assert len(pc) == len(gt) == 85
    assert np.abs(pc.ic_time.to_numpy() - gt.ic_time.to_numpy()).max() < 1e-9
    assert (pc.foot.to_numpy() == gt.foot.to_numpy()).all()  # measured: 85 of 85
