"""The survey form of the field-worker web app (docs/DOMAIN.md §6 "Household economic survey"):
/field/surveys/ renders for a surveyor with its scripts and its words in Chinese, for nobody else;
the field app's home links to it only for a worker with a family to survey; the service worker keeps
the page and its scripts for offline use. The form itself is driven in a browser
(tests/browser/test_survey_field.py)."""
import json
import re

import pytest

from tests.survey_world import survey_world


@pytest.fixture
def world(app):
    return survey_world(app)


def messages_of(page):
    found = re.search(r'<script type="application/json" id="field-messages">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_the_survey_form_is_for_surveyors(app, world, login):
    response = login("d-worker1", tenant="ganxian").get("/field/surveys/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "field-survey-form.js" in page and "field-survey.js" in page and "field-queue.js" in page
    assert page.index("field-survey-form.js") < page.index("field-survey.js\"")  # the form's helper first
    messages = messages_of(page)
    assert messages["need_interview"] == "请至少记录一次邻里走访。"
    assert [c["code"] for c in messages["relations"]][0] == "self"
    assert messages["max_fen"] == 2**31 - 1
    assert 'data-queue-key="field-surveys:' in page
    for username in ("gx-officer", "gx-supervisor", "d-manager"):
        assert login(username, tenant="ganxian").get("/field/surveys/").status_code == 403, username


def test_the_survey_form_needs_a_sign_in(app, world, client):
    response = client.get("/field/surveys/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_field_home_links_to_the_survey_form_only_for_a_worker_with_a_family_to_survey(app, world, login):
    home = login("d-worker1", tenant="ganxian").get("/field/").get_data(as_text=True)
    assert 'id="survey-form-link"' in home and 'href="/field/surveys/"' in home
    other = login("b-worker1", tenant="ganxian").get("/field/")
    assert other.status_code == 200 and 'id="survey-form-link"' not in other.get_data(as_text=True)


def test_the_service_worker_keeps_the_survey_page_and_its_scripts(client):
    script = client.get("/field/sw.js").get_data(as_text=True)
    assert 'SCOPE + "surveys/"' in script
    assert '"js/field-survey.js"' in script and '"js/field-survey-form.js"' in script
    version = re.search(r'var CACHE = "field-app-v([0-9]+)";', script)
    assert version and int(version.group(1)) >= 9  # bumped when the survey page joined the shell
    for name in ("field-survey.js", "field-survey-form.js"):
        assert client.get(f"/static/js/{name}").status_code == 200


def test_the_survey_pages_are_in_reach_of_who_works_them(app, world, login):
    """The surveyor reaches their surveys and the bureau's verdicts from the form; each bureau role
    and the contractor's manager find the survey pages in the navigation, each only those it may open."""
    form = login("d-worker1", tenant="ganxian").get("/field/surveys/").get_data(as_text=True)
    assert 'href="/surveys/"' in form and "我的调查及审核结果" in form
    expected = {"gx-officer": ("/surveys/", "/surveys/review", "/surveys/standards", "/surveys/due"),
                "gx-supervisor": ("/surveys/", "/surveys/review", "/surveys/rechecks", "/surveys/due"),
                "gx-finance": ("/surveys/",), "d-manager": ("/surveys/", "/surveys/due", "/surveys/changes")}
    for username, paths in expected.items():
        client = login(username, tenant="ganxian")
        home = client.get("/").get_data(as_text=True)
        for path in paths:
            assert f'href="{path}"' in home, (username, path)
            assert client.get(path).status_code == 200, (username, path)
    manager_home = login("d-manager", tenant="ganxian").get("/").get_data(as_text=True)
    assert 'href="/surveys/review"' not in manager_home and 'href="/surveys/rechecks"' not in manager_home


def test_form_fields_name_no_autocomplete_value_none(app, world, login):
    """The form macro leaves autocomplete out unless a field asks for one (it printed "None")."""
    page = login("gx-officer").get("/surveys/changes").get_data(as_text=True)
    assert "<form" in page and 'autocomplete="None"' not in page
    login_page = app.test_client().get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in login_page or 'autocomplete="current-password"' in login_page
