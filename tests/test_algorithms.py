"""The algorithm contract (runform.algorithm), run over every registered class, and entry-point discovery."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from runform import registry
from runform.algorithm import Algorithm
from runform.errors import InputError
from runform.synth import synth_runner

ALL = registry.all_classes()
FPS = 60.0


@pytest.fixture(scope="module")
def runner(noise_free):
    """(keypoints with 1 px noise, truth, noise-free keypoints) of a synthetic side-view treadmill runner."""
    return (*synth_runner(fps=FPS, duration_s=5.0, noise=1.0, cadence=170.0, seed=4), noise_free)


@pytest.fixture(scope="module")
def noise_free():
    """The same runner without keypoint noise."""
    return synth_runner(fps=FPS, duration_s=5.0, noise=0.0, cadence=170.0, seed=4)[0]


def test_every_kind_has_its_default_and_runform_methods():
    from runform.events import DETECTORS
    from runform.pose import BACKENDS

    for kind, name in registry.DEFAULTS.items():
        assert name in registry.names(kind)
    assert set(BACKENDS) <= set(registry.names("pose_backend"))
    assert set(DETECTORS) <= set(registry.names("event_detector"))


# -- running each kind's action on real input --------------------------------------------------
class _Reader:
    """Stands in for runform.video's reader: frames carry only their index (the replay backend reads it)."""

    def __init__(self, n: int, fps: float):
        self.info = SimpleNamespace(fps=fps, n_frames=n, width=1280, height=720, rotation=0, codec="test")
        self.n, self.fps = n, fps

    def __iter__(self):
        for i in range(self.n):
            # a still grey picture (no cut for the shot scan) whose first pixel carries the index
            frame = np.full((64, 64, 3), 128, dtype=np.uint8)
            frame[0, 0, :2] = i % 256, i // 256
            yield i, i / self.fps, frame


def _replay_class():
    from runform.pose import PoseBackend

    class _Replay(PoseBackend):
        """A pose model that 'finds' the synthetic runner's keypoints of the frame it is given."""

        def __init__(self, kps, name):
            self.kps, self.name, self.names, self.closed = kps, name, tuple(kps.names), False

        def detect(self, frame):
            from runform.pose import Detection

            i = int(frame[0, 0, 0]) + 256 * int(frame[0, 0, 1])
            p = self.kps.xy[i]
            box = np.array([*np.nanmin(p, axis=0), *np.nanmax(p, axis=0)])
            return [Detection(box=box, score=0.9, roi=_roi(self.kps, i))]

        def track(self, frame, roi):
            from runform.pose import PoseResult

            i = int(frame[0, 0, 0]) + 256 * int(frame[0, 0, 1])
            return PoseResult(xy=self.kps.xy[i].copy(), conf=self.kps.conf[i].copy(), score=0.9,
                              next_roi=_roi(self.kps, i))

        def close(self):
            self.closed = True

    return _Replay


def _roi(kps, i):
    from runform.pose import Roi

    p = kps.xy[i]
    c = np.nanmean(p, axis=0)
    return Roi(float(c[0]), float(c[1]), float(np.nanmax(np.ptp(p, axis=0))) * 1.3)


def _act_pose(algo, runner, monkeypatch):
    import runform.pose as pose
    import runform.video as video

    kps = runner[0]
    built = []

    def fake_make_backend(name, **kw):
        built.append(_replay_class()(kps, name))
        return built[-1]

    monkeypatch.setattr(pose, "make_backend", fake_make_backend)
    monkeypatch.setattr(video, "open_video", lambda path: _Reader(len(kps), FPS))
    out = algo.estimate("clip.mp4")
    assert [b.name for b in built] == [algo.backend]  # its own model ...
    assert built[0].closed  # ... freed after the clip
    got = out.keypoints_
    assert len(got) == len(kps) and got.meta["backend"] == algo.backend
    assert np.allclose(got.xy, kps.xy, equal_nan=True)  # the tracker kept the one runner, frame for frame
    return out


def _act_cleaner(algo, runner, monkeypatch):
    kps = runner[0]
    out = algo.clean(kps)
    assert len(out.keypoints_) == len(kps)
    assert out.report_.fps == pytest.approx(FPS)
    # cleaning moves noisy leg keypoints toward the noise-free ones (measured: RMS 1.01 -> 0.63 px)
    legs = [kps.index(f"{s}_{j}") for s in ("left", "right") for j in ("hip", "knee", "ankle")]
    truth = runner[2].xy[:, legs]
    rms = [float(np.sqrt(np.nanmean((k.xy[:, legs] - truth) ** 2))) for k in (kps, out.keypoints_)]
    assert rms[1] < 0.8 * rms[0], rms
    return out


def _act_view(algo, runner, monkeypatch):
    kps = runner[0]
    out = algo.detect(kps)
    assert out.view_.view == "side" and out.view_.direction == 1
    return out


def _act_events(algo, runner, monkeypatch):
    from runform.events import prepare_signals

    if "side" in algo.views:
        kps, truth = runner[0], runner[1]
        out = algo.detect(prepare_signals(kps, direction=1, treadmill=True))
        true = {f: truth.stances.ic_time[truth.stances.foot == f].to_numpy() for f in ("left", "right")}
    else:  # rear/front detectors read the cleaned keypoints of a rear-view runner
        from runform.synth_frontal import rear_runner

        kps, truth = rear_runner(fps=FPS, duration_s=6.0, noise_px=1.0, seed=4)  # a contact needs its swing after it
        kps.meta["view"] = "rear"
        out = algo.detect(kps)
        true = truth.ic_times
    for foot in ("left", "right"):
        ic = np.asarray(out.ic_[foot])
        true_ic = true[foot][(true[foot] >= 0.3) & (true[foot] <= 4.7)]
        assert len(ic) >= len(true_ic) >= 5, foot
        # every true contact found within 3 frames (measured worst: pelvis_relative 48 ms, learned 15 ms,
        # foot_clearance 12 ms on the rear runner)
        err = [float(np.min(np.abs(ic - x))) for x in true_ic]
        assert max(err) <= 3 / FPS, (foot, err)
    return out


ACTIONS = {"pose_backend": _act_pose, "cleaner": _act_cleaner, "view_detector": _act_view,
           "event_detector": _act_events}


@pytest.mark.parametrize("kind,name,cls", ALL, ids=[f"{k}:{n}" for k, n, _ in ALL])
def test_contract(kind, name, cls, runner, monkeypatch):
    assert issubclass(cls, Algorithm) and cls.kind == kind and cls.name == name
    assert callable(getattr(cls, cls._action_method, None))
    algo = cls()  # every parameter has a default; nothing is loaded here
    params = algo.get_params()
    assert list(params) == cls.param_names()
    assert not algo.results()
    with pytest.raises(AttributeError, match=f"call .{cls._action_method}"):
        algo.some_result_
    with pytest.raises(InputError, match="unknown parameter"):
        algo.set_params(no_such_parameter=1)
    if params:  # set_params changes exactly what get_params reports, and returns the algorithm
        key = next(iter(params))
        assert algo.set_params(**{key: params[key]}) is algo and algo.get_params() == params
    out = ACTIONS[kind](algo, runner, monkeypatch)
    assert out is algo  # the action returns self ...
    assert algo.results() and all(k.endswith("_") for k in algo.results())  # ... with results ending in _
    twin = algo.clone()
    assert type(twin) is cls and twin.get_params() == algo.get_params() and not twin.results()


# -- outside packages --------------------------------------------------------------------------
PLUGIN = '''
    """A tiny outside package: a pose "backend" that reads keypoints saved beside the video,
    and a renamed event detector."""
    from pathlib import Path

    from runform.events.foot_contact import FootContact
    from runform.frontal import FootClearance
    from runform.pose.estimators import PoseEstimator


    class KeypointFile(PoseEstimator):
        name = "keypoint_file"

        def __init__(self, suffix: str = ".keypoints.csv"):
            self.suffix = suffix

        def estimate(self, video, *, person=None, progress=None):
            from runform.io import load_keypoints

            self.keypoints_ = load_keypoints(Path(video).with_suffix(self.suffix))
            return self


    class StrictContact(FootContact):
        name = "strict_contact"


    class LowClearance(FootClearance):
        """A rear/front detector from outside: a stricter contact threshold by default."""

        name = "low_clearance"

        def __init__(self, contact_fraction: float = 0.05, **kw):
            super().__init__(contact_fraction=contact_fraction, **kw)


    class NotAnAlgorithm:
        pass
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Install a package with runform entry points the way pip would (a dist-info on sys.path)."""
    site = tmp_path / "site"
    (site / "runform_plugin_demo").mkdir(parents=True)
    (site / "runform_plugin_demo" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "runform_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runform-plugin-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [runform.pose_backends]
        keypoint_file = runform_plugin_demo:KeypointFile
        blazepose_heavy = runform_plugin_demo:KeypointFile

        [runform.event_detectors]
        strict_contact = runform_plugin_demo:StrictContact
        low_clearance = runform_plugin_demo:LowClearance
        broken = runform_plugin_demo:NotAnAlgorithm
        """))
    monkeypatch.syspath_prepend(str(site))
    return tmp_path


def test_entry_points_add_algorithms_by_name(plugin, runner):
    from runform.settings import Settings

    assert "keypoint_file" in registry.names("pose_backend")
    assert registry.names("event_detector")[-3:] == ["broken", "low_clearance", "strict_contact"]
    # a built-in name is never taken over: the same name means the same method in every analysis.json
    assert registry.get("pose_backend", "blazepose_heavy").__module__ == "runform.pose.estimators"
    with pytest.raises(InputError, match="not a runform event_detector algorithm"):
        registry.get("event_detector", "broken")
    s = Settings.build(event_method="strict_contact", pose_backend="keypoint_file",
                       params={"keypoint_file": {"suffix": ".kp.csv"}})
    assert type(s.algorithm("event_detector")).__name__ == "StrictContact"
    assert s.algorithm("pose_backend").get_params() == {"suffix": ".kp.csv"}


def test_outside_pose_backend_runs_through_the_api(plugin, runner):
    """api.extract_keypoints hands a name runform's models do not know to the registered class."""
    from runform.api import extract_keypoints
    from runform.io import save_keypoints

    kps = runner[0]
    video = plugin / "clip.mp4"
    video.write_bytes(b"")
    save_keypoints(kps, plugin / "clip.keypoints.csv")
    got = extract_keypoints(video, backend="keypoint_file")
    assert len(got) == len(kps) and np.allclose(got.xy, kps.xy, atol=1e-3, equal_nan=True)


def test_unknown_names_list_the_known_ones():
    from runform.settings import Settings

    with pytest.raises(InputError, match="unknown pose backend 'nope'.*blazepose_heavy"):
        Settings.build(pose_backend="nope")
    with pytest.raises(InputError, match="unknown event method 'nope'.*learned, foot_contact"):
        registry.get("event_detector", "nope")


def test_each_view_gets_the_event_detector_its_setting_names(plugin):
    """analyze() asks the settings for the view's detector by name (event_method: side, frontal_event_method:
    rear/front): an outside rear detector is used on a rear clip, with its own default parameter; the same
    parameter given to the built-in one gives the same contacts; a detector named for the wrong view is refused."""
    from runform.api import analyze
    from runform.settings import Settings
    from runform.synth_frontal import rear_runner

    kps, _ = rear_runner(duration_s=6.0)
    ics = {}
    for tag, kw in {"default": {}, "outside": {"frontal_event_method": "low_clearance"},
                    "params": {"params": {"foot_clearance": {"contact_fraction": 0.05}}}}.items():
        a = analyze(kps, **kw)
        ics[tag] = [e.time_s for e in a.events if e.type == "IC"]
        assert a.settings["frontal_event_method"] == kw.get("frontal_event_method", "foot_clearance")
    assert ics["outside"] == ics["params"] and ics["outside"] != ics["default"]
    assert len(ics["outside"]) == len(ics["default"])  # the same contacts, timed with the stricter threshold
    assert Settings.build(frontal_event_method="low_clearance").event_detector("front").name == "low_clearance"
    assert Settings.build(event_method="strict_contact").event_detector("side").name == "strict_contact"
    with pytest.raises(InputError, match="'foot_clearance' does not work from a side view; choose one of: learned"):
        Settings.build(event_method="foot_clearance")
    with pytest.raises(InputError, match="'learned' does not work from a rear or front view; choose one of: "
                                         "foot_clearance"):
        Settings.build(frontal_event_method="learned")
