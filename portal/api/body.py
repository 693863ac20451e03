"""Reading JSON request bodies strictly: wrong media type 415, malformed 400, invalid 422."""
import re

import jsonschema
from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from portal.core.errors import DomainError


class ValidationFailed(DomainError):
    status = 422


MAX_DEPTH = 32
# NUL cannot be stored in PostgreSQL text, and lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def unstorable_fields(data):
    """Fields whose keys or strings hold characters no database column can keep, found
    without recursion; raises when the body is nested deeper than MAX_DEPTH."""
    errors = {}
    stack = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationFailed("The request body is not valid.",
                                   {"body": [f"Nested deeper than {MAX_DEPTH} levels."]})
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    errors.setdefault(".".join(path) or "body", []).append("A field name holds a forbidden character.")
                    continue
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i)), depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str) and _UNSTORABLE.search(value):
            errors.setdefault(".".join(path) or "body", []).append("Holds a forbidden character (NUL or an unpaired surrogate).")
    return errors


_VALIDATORS = {}  # id(schema) -> (schema, its validator): a schema is a module constant, checked once


def _validator(schema):
    known = _VALIDATORS.get(id(schema))
    if known is None or known[0] is not schema:
        known = _VALIDATORS[id(schema)] = (schema, jsonschema.Draft202012Validator(schema))
    return known[1]


def json_body(schema):
    """The request's JSON object, validated against ``schema`` (a JSON Schema dict)."""
    if not request.mimetype or request.mimetype.split(";")[0] != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        data = request.get_json(force=True, silent=False)
    except (BadRequest, RecursionError):  # RecursionError: nested too deeply to parse
        raise BadRequest("The body is not valid JSON.") from None
    unstorable = unstorable_fields(data)
    if unstorable:
        raise ValidationFailed("The request body is not valid.", unstorable)
    validator = _validator(schema)
    errors = {}
    for error in validator.iter_errors(data):
        field = ".".join(str(p) for p in error.absolute_path) or (
            error.validator_value[0] if error.validator == "required" and isinstance(error.validator_value, list) else "")
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            field = ".".join([*map(str, error.absolute_path), missing]).strip(".")
            errors.setdefault(field, []).append("This field is required.")
        else:
            errors.setdefault(field or "body", []).append(error.message[:300])
    if errors:
        raise ValidationFailed("The request body is not valid.", errors)
    return data
