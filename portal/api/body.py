"""Reading JSON request bodies strictly: wrong media type 415, malformed 400, invalid 422."""
import jsonschema
from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from portal.core.errors import DomainError


class ValidationFailed(DomainError):
    status = 422


def json_body(schema):
    """The request's JSON object, validated against ``schema`` (a JSON Schema dict)."""
    if not request.mimetype or request.mimetype.split(";")[0] != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        data = request.get_json(force=True, silent=False)
    except BadRequest:
        raise BadRequest("The body is not valid JSON.") from None
    validator = jsonschema.Draft202012Validator(schema)
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
