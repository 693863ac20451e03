"""JSON text of open data, with money written as decimal numbers of exactly two places.

OCDS amounts are decimal yuan; the portal keeps integer fen. Builders turn fen into ``Decimal``
(exact); the stored release (a JSON column) holds them as floats, which are exact enough to be
written back with two places (every fen amount below 2**53 / 100 yuan). The standard ``json``
module cannot write a number with a chosen form, so this small encoder does: ``Decimal`` and
``float`` values are written as ``1234.50``, everything else as ``json`` would.
"""
import json
from decimal import Decimal

_string = json.encoder.encode_basestring  # ensure_ascii=False: Chinese stays readable


def _number(value):
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    return f"{value:.2f}"


def _encode(value, parts):
    if isinstance(value, str):
        parts.append(_string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, (float, Decimal)):
        parts.append(_number(value))
    elif isinstance(value, dict):
        parts.append("{")
        first = True
        for key, item in value.items():
            if not first:
                parts.append(",")
            first = False
            parts.append(_string(str(key)))
            parts.append(":")
            _encode(item, parts)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as open-data JSON")


def dumps(value):
    """``value`` as compact JSON text, amounts with two decimal places."""
    parts = []
    _encode(value, parts)
    return "".join(parts)


def to_stored(value):
    """The plain-JSON form kept in the database (Decimal amounts become floats)."""
    return json.loads(dumps(value))
