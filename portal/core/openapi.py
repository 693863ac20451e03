"""OpenAPI operations declared beside their routes, read back from the URL map.

    @api_bp.get("/contracts/<int:contract_id>")
    @operation({"summary": "One contract", "tags": ["contracts"],
                "responses": {"200": json_response("The contract", CONTRACT), "404": problem("No such contract")}})
    def contract(contract_id): ...

``operation`` only stores the description on the view function. portal/api/openapi.py builds the
document from the app's URL map: ``<int:contract_id>`` becomes ``{contract_id}`` (declared as an
integer path parameter unless the description names it), and the description applies to every
method of the rule. A view that serves several methods describes each one:
``operation(get={…}, post={…})``. Nothing here imports Flask or any package of the portal."""

ATTRIBUTE = "openapi_operations"
METHODS = ("get", "put", "post", "delete", "patch")


def operation(description=None, **by_method):
    """Attach ``description`` (for every method of the route) or ``get=…, post=…`` to the view."""
    if (description is None) == (not by_method):
        raise TypeError("operation() takes one description or descriptions by method, not both")
    unknown = set(by_method) - set(METHODS)
    if unknown:
        raise TypeError(f"operation(): unknown HTTP methods {sorted(unknown)}")

    def attach(view):
        described = dict(getattr(view, ATTRIBUTE, {}))
        described.update({None: description} if description is not None else by_method)
        setattr(view, ATTRIBUTE, described)
        return view
    return attach


def described_operations(view):
    """{method or None: description} attached to ``view`` (decorators made with functools.wraps
    carry it outward), or {}."""
    return getattr(view, ATTRIBUTE, None) or {}


def problem(description):
    """A response documented as application/problem+json (RFC 9457)."""
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def json_response(description, schema):
    """A response documented as application/json with ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}
