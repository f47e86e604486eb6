"""Checks a coach's phone and a desktop browser need from a report or result page (issue 16): nothing
wider than its box, every picture decoded, sources in words, ranges at their unit's precision, one
uncertainty per value, and a metric either measured or not measured. Used by the Chromium tests."""

from __future__ import annotations

import re

from runform.assess.wording import _UNIT_DECIMALS

UNITS = "steps/min|deg|L|cm|ms|m|%"
NUM = r"-?\d+(?:\.\d+)?"
RANGE = re.compile(rf"(?<![\w.±])({NUM}) ?(?:to|–) ?({NUM}) ({UNITS})(?![\w/])")
WITH_U = re.compile(rf"(?<![\w.±])({NUM}) ({UNITS}) ± ?({NUM}) ({UNITS})(?![\w/])")
WHY_U = re.compile(rf"(?<![\w.±])({NUM}) ({UNITS}) is [^()]*?\(measurement uncertainty ±({NUM}) ({UNITS})")

OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth, bad = [];
  const page = document.documentElement.scrollWidth - vw;
  for (const el of document.querySelectorAll('table, img, figure, .tablewrap, .card, section, svg, video, pre')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;          // not displayed (the other layout's plot)
    const label = el.tagName + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') + (el.alt ? '[' + el.alt.slice(0, 40) + ']' : '');
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible' && el.tagName !== 'IMG')
      bad.push(label + ' scrolls: ' + el.scrollWidth + ' > ' + el.clientWidth);
    if (box.right > vw + 1 && !el.closest('details:not([open])')) bad.push(label + ' right edge ' + Math.round(box.right) + ' > ' + vw);
    const parent = el.parentElement;
    if (parent && el.tagName === 'TABLE' && box.width > parent.clientWidth + 1)
      bad.push(label + ' ' + Math.round(box.width) + ' px in a ' + parent.clientWidth + ' px box');
  }
  return {page, bad};
}"""
IMAGES_JS = "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"


def layout_problems(page) -> list[str]:
    r = page.evaluate(OVERFLOW_JS)
    return ([f"page scrolls sideways by {r['page']} px"] if r["page"] > 1 else []) + r["bad"]


def broken_images(page) -> list[str]:
    return [alt for alt, complete, w in page.evaluate(IMAGES_JS) if not (complete and w > 0)]


def text_problems(text: str) -> list[str]:
    """What a coach would read as an error or a contradiction in the page's visible text."""
    out = []
    if "[inf]" in text:
        out.append("'[inf]' shown as a source")
    for lo, hi, unit in RANGE.findall(text):
        d = _UNIT_DECIMALS.get(unit, 2)
        for v in (lo, hi):
            got = len(v.split(".")[1]) if "." in v else 0
            if got != d:
                out.append(f"range {lo} to {hi} {unit}: {v} has {got} decimals, the unit has {d}")
    # one value of one metric, never keyed by the number alone (two metrics may read alike): a table
    # row names its metric in its first cell (desktop: tab-separated) or on the line above (phone:
    # stacked); a sentence is tied to every metric name it mentions
    lines = [ln.strip() for ln in text.splitlines()]
    label: dict[int, str] = {}
    for i, ln in enumerate(lines):
        cells = ln.split("\t")
        if len(cells) > 1 and WITH_U.match(cells[1].strip()):
            label[i] = cells[0].strip().lower()
        elif WITH_U.match(ln) and i and lines[i - 1] and not re.match(NUM, lines[i - 1]):
            label[i] = lines[i - 1].lower()
    names = set(label.values()) - {""}
    seen: dict[tuple[str, str, str], set[str]] = {}
    for i, ln in enumerate(lines):
        keys = [label[i]] if i in label else [n for n in names if n in ln.lower()] or [""]
        for v, unit, u, _ in WITH_U.findall(ln) + WHY_U.findall(ln):
            for k in keys:
                seen.setdefault((k, v, unit), set()).add(u)
    out += [f"{k + ': ' if k else ''}{v} {unit} shown with {len(us)} uncertainties: {sorted(us)}"
            for (k, v, unit), us in seen.items() if len(us) > 1]
    return out


def measured_and_not(measured: set[str], not_measured: set[str]) -> set[str]:
    return {m.lower() for m in measured} & {m.lower() for m in not_measured}


REPORT_STATUS_JS = """() => {
  const name = td => td.childNodes[0].textContent.trim();
  const rows = Array.from(document.querySelectorAll('#metrics tbody tr')).map(tr => [tr.className, name(tr.querySelector('td.name'))]);
  const listed = Array.from(document.querySelectorAll('#quality li')).filter(li => li.querySelector('strong') && /\\(not measured\\)/.test(li.textContent)).map(li => li.querySelector('strong').textContent.trim());
  return {rows, listed};
}"""
WEB_STATUS_JS = """() => Array.from(document.querySelectorAll('#metrics tbody tr')).map(tr => [tr.className, tr.querySelector('th').textContent.trim(), tr.querySelector('td.value').textContent.trim()])"""


def report_status_clash(page) -> set[str]:
    """Metric names a report shows both as measured (a row with a value) and as not measured."""
    r = page.evaluate(REPORT_STATUS_JS)
    measured = {n for cls, n in r["rows"] if cls != "not_measured"}
    return measured_and_not(measured, {n for cls, n in r["rows"] if cls == "not_measured"} | set(r["listed"]))


def web_status_clash(page) -> set[str]:
    rows = page.evaluate(WEB_STATUS_JS)
    measured = {n for cls, n, v in rows if cls != "not_measured" and v != "not measured"}
    return measured_and_not(measured, {n for cls, n, v in rows if cls == "not_measured" or v == "not measured"})


def check_everywhere(page, kind: str = "report") -> dict:
    """All of the above on one open page; returns what it measured for the test report."""
    problems = layout_problems(page)
    broken = broken_images(page)
    text = page.evaluate("document.body.innerText")
    words = text_problems(text)
    clash = report_status_clash(page) if kind == "report" else web_status_clash(page)
    assert not problems, problems
    assert not broken, broken
    assert not words, words
    assert not clash, f"measured and not measured: {clash}"
    return {"images": len(page.evaluate(IMAGES_JS)), "width": page.evaluate("document.documentElement.scrollWidth")}
