"""What a coach reads when an analysis cannot be done: a title and what to do next, per error type.

The exception's own message (from runform.errors) is shown under the title; it says what was found.
"""

from __future__ import annotations

PAIN_SITES = ("hamstring", "knee", "knee-outside", "shin", "achilles", "plantar-fascia", "hip-flexor",
              "low-back", "quads")
FEELINGS = ("heavy-legs", "legs-drag")

LABELS = {
    "hamstring": "Hamstring", "knee": "Knee (front)", "knee-outside": "Knee (outside)", "shin": "Shin",
    "achilles": "Achilles", "plantar-fascia": "Plantar fascia (sole)", "hip-flexor": "Hip flexor",
    "low-back": "Low back", "quads": "Quads", "heavy-legs": "Heavy legs", "legs-drag": "Legs drag",
}

_MESSAGES: dict[str, tuple[str, str]] = {
    "InputError": ("We could not read this file as a video",
                   "Choose the original clip from the phone or camera (MP4, MOV, WebM, ...)."),
    "NoPersonError": ("No runner found in the clip",
                      "Film the whole body in good light, with the runner filling at least a third of the "
                      "frame height."),
    "MultiplePeopleError": ("Several people in view",
                            "Click on the runner in the first frame below (or give their number) and run it again; "
                            "next time, film with only the runner in view."),
    "NotRunningError": ("This does not look like running",
                        "The person seems to walk or stand (no phase with both feet off the ground). "
                        "Film at running pace."),
    "TooShortError": ("The clip is too short",
                      "Film at least 10 seconds of steady running, so each leg makes 3 or more strides."),
    "SlowMotionError": ("This looks like slow motion",
                        "Give the frame rate it was filmed at (\"Filmed at\", e.g. 120 or 240) and upload it again."),
    "LowFrameRateError": ("The frame rate is too low",
                          "Film at 60 frames per second or more (slow-motion mode works well)."),
    "ViewError": ("The camera angle does not suit the analysis",
                  "Film from the side at hip height, or straight from behind, with the camera still."),
    "ModelError": ("The pose model is not available",
                   "The first analysis downloads it: connect to the internet once and try again."),
    "Interrupted": ("The analysis was interrupted",
                    "Press Retry to run it again; the uploaded clip is kept."),
    "Crashed": ("The analysis process stopped unexpectedly",
                "This can happen when the computer runs out of memory. Press Retry, or try a shorter clip."),
    "UploadTooLarge": ("The file is too large", "Trim the clip to 10-30 seconds of running and try again."),
    "BadUpload": ("Something in the form cannot be used", "Correct what the message names and send it again."),
    "CrossOrigin": ("Refused: the request came from another web site",
                    "Use the runform pages themselves; other sites may not upload, retry or delete."),
    "TokenRequired": ("Access token needed", "Open the full address printed by `runform serve`, token included."),
    "InternalError": ("Something went wrong inside runform",
                      "Press Retry; if it happens again, keep the clip and report the problem."),
}


#: One error type covers refusals for different reasons: the message says which, so the title does
#: too (first match wins; otherwise the type's own title).
_BY_REASON: list[tuple[str, str, str, str]] = [
    ("TooShortError", "sprint start", "A sprint start, not steady running",
     "Film at least 10 seconds of running after the start, or trim the clip to the running steps."),
    ("TooShortError", "the clip is edited", "No shot of this edited clip is long enough",
     "Upload one take of at least 10 seconds of steady running, or trim the clip to one shot."),
    ("NotRunningError", "the clip is edited", "Nobody runs in any shot of this edited clip",
     "Upload one take of the runner at running pace, at least 10 seconds long."),
    ("MultiplePeopleError", "the clip is edited", "Several people in every shot of this edited clip",
     "Upload one take with only the runner in view, or click on the runner and run it again."),
]


def user_error(kind: str | None, message: str | None) -> dict[str, str]:
    """{kind, title, message, hint} for the page and the API."""
    title, hint = _MESSAGES.get(kind or "", _MESSAGES["InternalError"])
    low = (message or "").lower()
    for k, needle, t, h in _BY_REASON:
        if k == kind and needle in low:
            title, hint = t, h
            break
    return {"kind": kind or "InternalError", "title": title, "message": message or "", "hint": hint}
