"""A bounded schemathesis run against the OpenAPI document (/api/v1/openapi.json), in process (WSGI).

Every operation of the document gets a few generated requests that fit its declaration and a few
that do not, deterministically (hypothesis derandomized, schemathesis seeded), each sent with the
bearer token of a demo user drawn among the roles that use the API, against the demo world with
its history. No answer may be a 5xx, and every answer must be declared for its operation: its
status code, its content type, its headers and its body's schema. Generated ids mostly name absent
rows (a 404); half of the time an id is replaced by a small one, which names a row of the demo's
history, and a bureau code by a real one, so that answers about existing rows are checked too.

One test walks every operation (one database state, put back once), so that the run stays bounded
on both databases; its failure lists every operation that failed, with a curl line to reproduce."""
import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from tests import support
from tests.conftest import BACKEND

# Requests per operation, fitting or not (about 50 operations, so about 500 requests in the SQLite
# pass); fewer in the PostgreSQL pass, the longer of the two, where each costs more.
EXAMPLES = 10 if BACKEND == "sqlite" else 4
CONFIG = SchemathesisConfig.from_dict({"seed": 21, "generation": {"deterministic": True}})
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.generate], suppress_health_check=list(HealthCheck))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
# Who calls: a bureau's officer, supervisor and finance reviewer, a contractor's manager and field
# workers (the field app's operations), and the city's auditor (read only, for one bureau).
PRINCIPALS = (("gx-officer", None), ("gx-supervisor", None), ("gx-finance", None), ("a-manager", "ganxian"),
              ("a-worker1", None), ("b-worker1", None), ("city-auditor", "ganxian"))
REAL_CODES = ("ganxian", "zhanggong")
SMALL_IDS = st.integers(min_value=1, max_value=40)


def served_document(app):
    with app.test_client() as client:
        response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(document):
    """The document's operations, those that end a token (DELETE) last."""
    found = [result.ok() for result in schemathesis.openapi.from_dict(document, config=CONFIG).get_all_operations()]
    return sorted(found, key=lambda operation: (operation.method.upper() == "DELETE", operation.label))


def _towards_real_rows(case, data):
    for name, value in list((case.path_parameters or {}).items()):
        if not data.draw(st.booleans(), label=f"real {name}"):
            continue
        if name.endswith("_id") and isinstance(value, int):
            case.path_parameters[name] = data.draw(SMALL_IDS, label=name)
        elif name == "code":
            case.path_parameters[name] = data.draw(st.sampled_from(REAL_CODES), label=name)


def probe(app, operation, bearers):
    """Sends up to ``EXAMPLES`` generated requests of ``operation``, fitting its declaration or not
    (where it has anything that can be made not to fit); returns how many were sent."""
    sent = []
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))

    @SETTINGS
    @given(case=cases, data=st.data())
    def run(case, data):
        _towards_real_rows(case, data)
        headers = data.draw(st.sampled_from(bearers), label="principal")
        case.call_and_validate(app=app, headers=headers, checks=CHECKS)
        sent.append(case)
    run()
    return len(sent)


def test_every_operation_answers_as_declared(app, api_token):
    support.seed_demo(app, history=True)
    bearers = [api_token(username, tenant=tenant) for username, tenant in PRINCIPALS]
    failures, sent = [], {}
    for operation in operations(served_document(app)):
        try:
            sent[operation.label] = probe(app, operation, bearers)
        except FailureGroup as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, f"{len(failures)} operation(s) answered outside the document:\n\n" + "\n\n".join(failures)
    assert len(sent) >= 40 and all(sent.values()), sent  # every operation was called


def test_the_checks_fail_on_an_answer_the_document_does_not_declare(app, api_token):
    """The harness can fail: with the 401 taken out of /api/v1/me's declaration, the anonymous
    call (a 401 problem) is refused by the status-code check; with a property the answer lacks
    made required, a signed-in call is refused by the schema check."""
    support.seed_demo(app)
    document = copy.deepcopy(served_document(app))
    declared = document["paths"]["/api/v1/me"]["get"]["responses"]
    del declared["401"]
    declared["200"]["content"]["application/json"]["schema"]["required"] = ["no_such_property"]
    case = schemathesis.openapi.from_dict(document, config=CONFIG)["/api/v1/me"]["GET"].Case()
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.call_and_validate(app=app, checks=CHECKS)
    with pytest.raises(FailureGroup, match="Response violates schema"):
        case.call_and_validate(app=app, headers=api_token("gx-officer"), checks=CHECKS)
