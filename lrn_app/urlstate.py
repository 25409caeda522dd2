"""The address: a page's settings read from URL parameters and written back, knowing no page.

``parse`` reads a (possibly hand-edited) query string into a page's dataclass
(lrn_app.state): unknown keys are ignored, values of the wrong type fall back to the
default, names not in the page's ``CHOICES`` are refused, and the page's own ``repaired``
makes the rest consistent; each repair is reported as a notice for the page to show.
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields, replace

# The frame's own URL parameters, known on every page (app.py and lrn_app.ui.lesson_bar read them):
# presentation mode, and the open lesson and its step.
FRAME_PARAMS = ("present", "lesson", "step")


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse_value(raw: str, default, options: tuple | None):
    """One URL value as the type of ``default``; ValueError when it is not one."""
    kind = type(default)
    if kind is bool:
        if raw.lower() not in _TRUE + _FALSE:
            raise ValueError
        return raw.lower() in _TRUE
    if kind is int:
        return int(raw)
    if kind is float:
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError
        return value
    if kind is tuple:  # a list of names, comma-separated; unknown names are left out
        return tuple(item for item in raw.split(",") if item)
    if options is not None and raw not in options:
        raise ValueError
    return raw


def parse(query: dict[str, str], page: type) -> tuple:
    """Read a page's settings from URL parameters; return them and the repairs made.

    ``page`` is the page's dataclass of controls (one in lrn_app.state) with a ``CHOICES``
    table of allowed names and a ``repaired`` method that makes them consistent.
    """
    defaults = page()
    choices = page.CHOICES
    values, notices = {}, []
    known = {f.name for f in fields(page)}
    for key, raw in query.items():
        if key in FRAME_PARAMS:
            continue
        if key not in known:
            notices.append(f"ignored the unknown URL parameter {key!r}.")
            continue
        raw = raw[-1] if isinstance(raw, list) else raw
        try:
            value = _parse_value(raw, getattr(defaults, key), choices.get(key))
        except (ValueError, AttributeError):
            notices.append(f"URL parameter {key}={raw!r} is not valid; "
                           f"using {getattr(defaults, key)!r}.")
            continue
        if isinstance(value, tuple) and key in choices:
            unknown = [item for item in value if item not in choices[key]]
            if unknown:
                notices.append(f"URL parameter {key}: left out {', '.join(map(repr, unknown))} "
                               "(not a known name; uploads are not kept in the address).")
                value = tuple(item for item in value if item in choices[key])
        values[key] = value
    return replace(defaults, **values).repaired(notices), notices


def to_query(state) -> dict[str, str]:
    """The URL parameters that restore ``state`` (only those that differ from the defaults)."""
    defaults = asdict(type(state)())
    out = {}
    for key, value in asdict(state).items():
        if value != defaults[key]:
            if isinstance(value, bool):
                out[key] = "1" if value else "0"
            elif isinstance(value, tuple):
                out[key] = ",".join(value)
            else:
                out[key] = repr(value) if isinstance(value, float) else str(value)  # exact
    return out
