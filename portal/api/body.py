"""Reading JSON request bodies strictly: wrong media type 415, malformed 400, invalid 422."""
import re

import jsonschema
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
            raise ValidationFailed(_("The request body is not valid."),
                                   {"body": [_("Nested deeper than %(n)s levels.", n=MAX_DEPTH)]})
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    errors.setdefault(".".join(path) or "body", []).append(_("A field name holds a forbidden character."))
                    continue
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i)), depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str) and _UNSTORABLE.search(value):
            errors.setdefault(".".join(path) or "body", []).append(
                _("Holds a forbidden character (NUL or an unpaired surrogate)."))
    return errors


def _is_whole_number(checker, instance):
    """JSON Schema 2020-12 calls 1200.0 an integer; money and ids here must arrive as whole
    numbers written without a fraction, so "integer" is a Python int (never a bool)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number))

_VALIDATORS = {}  # id(schema) -> (schema, its validator): a schema is a module constant, checked once


def _validator(schema):
    known = _VALIDATORS.get(id(schema))
    if known is None or known[0] is not schema:
        known = _VALIDATORS[id(schema)] = (schema, StrictValidator(schema))
    return known[1]


JSON_TYPES = {"boolean": _l("true or false"), "string": _l("text"), "integer": _l("a whole number"),
              "number": _l("a number"), "object": _l("an object"), "array": _l("a list"), "null": _l("null")}


def _message(error):
    """A jsonschema error in the reader's language (the validators the API's schemas use; any other
    as a general sentence, never jsonschema's English)."""
    value = error.validator_value
    if error.validator == "type":
        names = value if isinstance(value, list) else [value]
        return _("Give %(type)s.", type=_(" or ").join(str(JSON_TYPES.get(name, name)) for name in names))
    if error.validator == "enum":
        return _("Choose one of: %(s)s.", s=", ".join(map(str, value)))
    if error.validator == "maxLength":
        return _("At most %(n)s characters.", n=value)
    if error.validator == "minLength":
        return _("At least %(n)s characters.", n=value)
    if error.validator == "maxItems":
        return _("At most %(n)s items.", n=value)
    if error.validator in ("minimum", "exclusiveMinimum"):
        return _("Give a number of at least %(n)s.", n=value)
    if error.validator in ("maximum", "exclusiveMaximum"):
        return _("Give a number of at most %(n)s.", n=value)
    if error.validator in ("pattern", "format"):
        return _("Not in the expected format.")
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in known) if isinstance(error.instance, dict) else []
        return _("Fields not accepted here: %(names)s.", names=", ".join(extra)[:300])
    if error.validator == "minItems":
        return _("At least %(n)s items.", n=value)
    if error.validator == "minProperties":
        return _("Give at least %(n)s fields.", n=value)
    if error.validator == "maxProperties":
        return _("Give at most %(n)s fields.", n=value)
    if error.validator in ("oneOf", "anyOf"):
        return _("Not one of the accepted forms.")
    return _("Not a valid value.")


def schema_errors(data, schema):
    """{field: [messages]} of ``data`` against ``schema`` (a JSON Schema dict; its validator is
    built once), in the reader's language; empty when it is valid."""
    errors = {}
    for error in _validator(schema).iter_errors(data):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            errors.setdefault(".".join([*path, missing]).strip("."), []).append(_("This field is required."))
        else:
            errors.setdefault(".".join(path) or "body", []).append(_message(error))
    return errors


def json_body(schema):
    """The request's JSON object, validated against ``schema`` (a JSON Schema dict)."""
    if not request.mimetype or request.mimetype.split(";")[0] != "application/json":
        raise UnsupportedMediaType(_("Send the body as application/json."))
    try:
        data = request.get_json(force=True, silent=False)
    except (BadRequest, RecursionError):  # RecursionError: nested too deeply to parse
        raise BadRequest(_("The body is not valid JSON.")) from None
    unstorable = unstorable_fields(data)
    if unstorable:
        raise ValidationFailed(_("The request body is not valid."), unstorable)
    errors = schema_errors(data, schema)
    if errors:
        raise ValidationFailed(_("The request body is not valid."), errors)
    return data
