"""OpenAPI operations declared beside their routes (core/openapi.py) reach the served document."""
import pytest
from flask import Blueprint, Flask

from portal.api.openapi import declared_paths, openapi_path
from portal.core.openapi import json_response, operation, problem


def test_a_rule_becomes_an_openapi_path_with_its_converters():
    assert openapi_path("/api/v1/contracts/<int:contract_id>/lines/<code>") == (
        "/api/v1/contracts/{contract_id}/lines/{code}", {"contract_id": "int", "code": "string"})


def test_declared_operations_are_read_from_the_url_map_per_method():
    app = Flask(__name__)
    bp = Blueprint("demo_api", __name__, url_prefix="/api/v1")

    @bp.route("/things/<int:thing_id>", methods=["GET", "PUT"])
    @operation(get={"summary": "Read", "responses": {"200": json_response("The thing", {"type": "object"})}},
               put={"summary": "Replace", "responses": {"404": problem("No such thing")}})
    def thing(thing_id):
        return ""

    @bp.post("/things")
    @operation({"summary": "Create", "responses": {"201": {"description": "Created"}}})
    def create():
        return ""

    @bp.get("/undocumented")
    def undocumented():
        return ""

    app.register_blueprint(bp)
    paths = declared_paths(app)
    assert set(paths) == {"/api/v1/things/{thing_id}", "/api/v1/things"}
    item = paths["/api/v1/things/{thing_id}"]
    assert item["get"]["summary"] == "Read" and item["put"]["summary"] == "Replace"
    assert item["get"]["parameters"] == [{"name": "thing_id", "in": "path", "required": True,
                                          "schema": {"type": "integer"}}]
    assert list(paths["/api/v1/things"]) == ["post"]


def test_operation_takes_one_description_or_descriptions_by_method():
    with pytest.raises(TypeError):
        operation({"summary": "x"}, get={"summary": "y"})
    with pytest.raises(TypeError):
        operation(fetch={"summary": "y"})
