"""The OpenAPI 3.1 description of /api/v1. Each package declares its operations beside its routes
(core/openapi.py ``operation``), read here from the app's URL map; the served document then
states the one query-parameter contract (core/query.py) on every path, whoever wrote it: page,
per_page (added to every paged list), month and id parameters get their bounds and pattern, and
every time field (``*_at``, ``at``) says ``format: date-time``."""
import copy
import re

from flask import current_app

from portal.core import query
from portal.core.openapi import METHODS, described_operations, problem

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def _is_integer_id(parameter):
    name, schema = parameter.get("name", ""), parameter.get("schema") or {}
    return (name == "id" or name.endswith("_id")) and schema.get("type") == "integer"


def _contract_schema(parameter):
    """The schema the query contract gives ``parameter``, or None for any other parameter."""
    name = parameter.get("name")
    if parameter.get("in") == "query" and name == "page":
        return query.PAGE_SCHEMA
    if parameter.get("in") == "query" and name == "per_page":
        return query.per_page_schema()
    if parameter.get("in") == "query" and name == "month":
        return query.MONTH_SCHEMA
    if parameter.get("in") in ("path", "query") and _is_integer_id(parameter):
        return query.ID_SCHEMA
    return None


def _time_fields(node):
    """Every string property named ``at`` or ``*_at`` is an RFC 3339 date-time."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for name, prop in (item.get("properties") or {}).items():
                if (name == "at" or name.endswith("_at")) and isinstance(prop, dict):
                    kinds = prop.get("type")
                    kinds = kinds if isinstance(kinds, list) else [kinds]
                    if "string" in kinds:
                        prop.setdefault("format", "date-time")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# Lists whose page size is part of their format (OCDS release packages of 100).
FIXED_PAGE_SIZE = {"/api/v1/public/{code}/ocds/releases"}


def _apply_query_contract(paths):
    for path, operations in paths.items():
        shared = operations.get("parameters", [])
        for method, operation in operations.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            checked = False
            names = {p.get("name") for p in [*shared, *operation.get("parameters", [])] if p.get("in") == "query"}
            if "page" in names and "per_page" not in names and path not in FIXED_PAGE_SIZE:
                operation.setdefault("parameters", []).append(
                    {"name": "per_page", "in": "query", "required": False,
                     "description": "Rows on a page (the list's own size when absent)"})
            for parameter in [*shared, *operation.get("parameters", [])]:
                schema = _contract_schema(parameter)
                if schema is not None:
                    parameter["schema"] = copy.deepcopy(schema)
                    checked = checked or parameter["in"] == "query"
            responses = operation.setdefault("responses", {})
            if checked and "422" not in responses:
                responses["422"] = problem("A query parameter outside its bounds (page, month, id)")
    _time_fields(paths)
    return paths


_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def openapi_path(rule):
    """``/contracts/<int:contract_id>`` -> (``/contracts/{contract_id}``, {"contract_id": "int"})."""
    kinds = {}

    def _name(match):
        kinds[match.group(2)] = match.group(1) or "string"
        return "{" + match.group(2) + "}"
    return _CONVERTER.sub(_name, rule), kinds


def declared_paths(app):
    """The operations declared beside their routes (core/openapi.py ``operation``), by path."""
    paths = {}
    for rule in app.url_map.iter_rules():
        described = described_operations(app.view_functions.get(rule.endpoint))
        if not described:
            continue
        path, kinds = openapi_path(rule.rule)
        methods = sorted(m.lower() for m in rule.methods or () if m.lower() in METHODS)
        for method in methods:
            description = described.get(method, described.get(None))
            if description is None:
                continue
            item = copy.deepcopy(description)
            named = {p.get("name") for p in item.get("parameters", []) if p.get("in") == "path"}
            for name, kind in kinds.items():
                if name not in named:
                    schema = {"type": "integer"} if kind == "int" else {"type": "string"}
                    item.setdefault("parameters", []).append(
                        {"name": name, "in": "path", "required": True, "schema": schema})
            paths.setdefault(path, {})[method] = item
    return paths




def openapi_document():
    return {
        "openapi": "3.1.0",
        "info": {"title": "Social-assistance procurement and supervision portal API", "version": "1.0.0",
                 "description": "Errors are application/problem+json (RFC 9457). Money is integer fen in "
                                "fields named *_fen; times are ISO 8601 with an offset."},
        "servers": [{"url": "/"}],
        "paths": _apply_query_contract(declared_paths(current_app)),
        "components": {
            "schemas": {"Problem": PROBLEM},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
