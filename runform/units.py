"""Running speed as people write it: m/s, km/h, mph, or a pace per km / per mile.

One parser for the CLI, the web form and the API, so `12` means the same thing everywhere: a bare
number is metres per second, and a bare number above BARE_MAX_MPS is refused because it is almost
always a treadmill read in km/h or mph (12 m/s is faster than a 100 m world record average).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import InputError

BARE_MAX_MPS = 8.0  # a bare number above this is more likely km/h or mph than m/s
#: Below 1 m/s (3.6 km/h, a 16:40/km pace) is slower than ordinary walking (about 1.3 m/s), so it is not a
#: running speed but a slip (a wrong unit, a missing digit); the event detector refuses walking anyway.
#: Above 12 m/s is beyond a human sprint. The web form, the CLI and the API all check against these.
MIN_MPS, MAX_MPS = 1.0, 12.0
KMH, MPH, MILE_M = 3.6, 2.2369362920544, 1609.344

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_PACE = re.compile(r"^(\d{1,2}):([0-5]\d)(?:\s*(?:min)?\s*(?:/|per\s*)\s*(km|mi|mile))?$")
_WITH_UNIT = re.compile(_NUMBER + r"\s*(m/s|mps|km/h|kmh|kph|km/hr|mph|mi/h)?$")
_UNIT_NAMES = {"m/s": "m/s", "mps": "m/s", "km/h": "km/h", "kmh": "km/h", "kph": "km/h", "km/hr": "km/h",
               "mph": "mph", "mi/h": "mph"}
EXAMPLES = "3.3 (m/s), 3.3m/s, 12km/h, 7.5mph, 4:30/km or 7:15/mi"


@dataclass(frozen=True)
class Speed:
    mps: float
    unit: str  # the unit the runner used: m/s, km/h, mph, min/km, min/mi

    def words(self) -> str:
        """The speed in the runner's unit, with m/s alongside when that is not it."""
        return speed_words(self.mps, self.unit)


def speed_words(mps: float, unit: str | None = None) -> str:
    ms = f"{mps:.2f} m/s"
    if unit == "km/h":
        return f"{mps * KMH:.1f} km/h ({ms})"
    if unit == "mph":
        return f"{mps * MPH:.1f} mph ({ms})"
    if unit in ("min/km", "min/mi"):
        per = 1000.0 if unit == "min/km" else MILE_M
        sec = round(per / mps)
        return f"{sec // 60} min {sec % 60:02d} s per {'km' if unit == 'min/km' else 'mile'} ({ms})"
    return ms


def parse_speed(text: str | float | int | None, *, flag: str = "--speed", explicit_mps: bool = False) -> Speed | None:
    """A Speed from what the runner typed; None for nothing; InputError saying how to write it otherwise.

    explicit_mps: the caller's field is named in m/s (speed_mps), so a bare number is not second-guessed.
    """
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        raw = repr(float(text))
    else:
        raw = str(text).strip()
    if not raw:
        return None
    s = raw.lower().replace(" ", "") if ":" not in raw else raw.lower().strip()
    m = _PACE.match(s)
    if m:
        minutes, seconds, per = int(m.group(1)), int(m.group(2)), m.group(3) or "km"
        total = 60 * minutes + seconds
        if total == 0:
            raise InputError(f"{flag} {raw}: a pace of zero is not a speed.", hint=f"Write it like {EXAMPLES}.")
        dist = 1000.0 if per == "km" else MILE_M
        return _checked(dist / total, "min/km" if per == "km" else "min/mi", raw, flag)
    m = _WITH_UNIT.match(s)
    if not m:
        raise InputError(f"{flag} {raw}: not a speed we can read.", hint=f"Write it like {EXAMPLES}.")
    value = float(m.group(1).replace(",", "."))
    unit = _UNIT_NAMES.get(m.group(2) or "", None)
    if unit is None:  # a bare number: metres per second, unless it is clearly something else
        if value > BARE_MAX_MPS and not explicit_mps:
            raise InputError(
                f"{flag} {raw}: a number without a unit is read as m/s, and {value:g} m/s would be "
                f"{value * KMH:.0f} km/h, sprint speed.",
                hint=f"Add the unit: {raw}km/h is {value / KMH:.2f} m/s, {raw}mph is {value / MPH:.2f} m/s "
                     f"(or give a pace such as 4:30/km).")
        unit = "m/s"
    mps = value / KMH if unit == "km/h" else value / MPH if unit == "mph" else value
    return _checked(mps, unit, raw, flag)


def _checked(mps: float, unit: str, raw: str, flag: str) -> Speed:
    if not math.isfinite(mps) or not MIN_MPS <= mps <= MAX_MPS:
        raise InputError(f"{flag} {raw} is {mps:.2f} m/s, outside running speeds "
                         f"({MIN_MPS:g}-{MAX_MPS:g} m/s).", hint=f"Write it like {EXAMPLES}.")
    return Speed(round(mps, 4), unit)
