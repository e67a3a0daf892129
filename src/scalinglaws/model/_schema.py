"""Reading model objects from plain JSON (dicts): one place for the field checks of every variant.

Each registry maps a ``kind`` to ``(variant, fields, required)``; :func:`read_fields` checks that
``data`` is a dict, that its ``kind`` is registered, that it has no unknown field and every
required one, and returns the fields. Values are checked by the variants' own constructors, with
the package's one-line messages; a study file's reader only adds the file and the field path.
"""

from __future__ import annotations

import re

from .._errors import InputError

__all__ = ["read_fields", "relocate"]

_FIRST_FIELD = re.compile(r"'([A-Za-z_][\w.\[\]]*)'")


def relocate(err: InputError, prefix: str) -> InputError:
    """``err`` with its first quoted field name put under ``prefix``: ``'alpha' must be ...``
    becomes ``'spectrum.alpha' must be ...`` (a message without one gets ``prefix: `` ahead)."""
    text = str(err)
    match = _FIRST_FIELD.search(text)
    if match is None:
        return InputError(f"{prefix}: {text}")
    located = f"'{prefix}.{match.group(1)}'"
    return InputError(text[: match.start()] + located + text[match.end() :])


def read_fields(data: object, registry: dict, *, default_kind: str) -> dict:
    """The fields of ``data`` (a dict with an optional ``kind``), checked against ``registry``."""
    if not isinstance(data, dict):
        raise InputError(f"must be a table (a dict). Got {data!r:.60} instead.")
    kind = data.get("kind", default_kind)
    if kind not in registry:
        choices = ", ".join(repr(k) for k in registry)
        raise InputError(f"'kind' must be one of {choices}. Got {kind!r} instead.")
    _, fields, required = registry[kind]
    allowed = ("kind", *fields)
    for key in data:
        if key not in allowed:
            raise InputError(f"unknown field '{key}'; expected one of {', '.join(allowed)}.")
    for key in required:
        if key not in data:
            raise InputError(f"missing field '{key}'.")
    return {"kind": kind, **{key: data[key] for key in fields if key in data}}
