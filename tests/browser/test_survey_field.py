"""The survey form of the field-worker web app through a real browser, on a phone viewport
(docs/DOMAIN.md §6 "Household economic survey"): a surveyor records a family of two with one
income and one neighbour interview offline; it waits in the browser, and once the network is back
it reaches the server exactly once (one HouseholdSurvey with its client id, the amount in exact
fen) and the card shows the server's judgement. A survey without an interview, or with a negative
amount, is refused on the phone in Chinese next to the field; one the server refuses (422) comes
back into the form with the server's message for correction and is then sent under the same
client id; a client id the server holds with another body (409) is said to be recorded differently."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_foundation_browser import press, sign_in
from tests.survey_world import member_id_number, record, scope, survey_world

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def stored_with(app, client_id):
    from portal.surveys.models import HouseholdSurvey
    with app.app_context(), scope(app):
        return [{"id": s.id, "members": len(s.members), "incomes": [i.amount_fen for i in s.incomes],
                 "interviews": [i.neighbour for i in s.interviews], "outcome": s.outcome, "source": s.source,
                 "area": s.area, "visit": s.visit_id is not None}
                for s in db.session.execute(select(HouseholdSurvey).where(HouseholdSurvey.client_id == client_id))
                .scalars()]


def open_form(page, live_server, world, name):
    """Signed in as d-worker1 at home of ``name``, the form of that family opened; returns the card."""
    lat, lon = world["homes"][name]
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 6})
    page.set_viewport_size(PHONE)
    sign_in(page, "d-worker1")
    page.goto("/field/surveys/")
    card = page.locator(f"#card-{world['people'][name]}-{world['contract']}")
    card.locator("button.start-survey").click()
    expect(page.locator("#survey-form h2")).to_have_text(name[0] + "*" + name[-1])
    return card


def fill_member(page, index, name, id_number, relation=None):
    page.locator(f"#sf-members-{index}-name").fill(name)
    page.locator(f"#sf-members-{index}-id_number").fill(id_number)
    if relation:
        page.locator(f"#sf-members-{index}-relation").select_option(relation)


def fill_interview(page, index=0):
    page.locator(f"#sf-interviews-{index}-neighbour").fill("邻居王大姐")
    page.locator(f"#sf-interviews-{index}-statement").fill("这家人确实困难，男的打零工。")


def test_an_offline_survey_is_sent_once_and_its_judgement_shows(app, page, live_server):
    world = survey_world(app)
    name = "杨细妹"
    posted = []
    page.on("request", lambda request: posted.append(request.post_data or "") if (
        request.method == "POST" and request.url.endswith("/api/v1/surveys")) else None)
    page.set_viewport_size(PHONE)
    sign_in(page, "d-worker1")
    page.goto("/field/")
    press(page, page.locator("#survey-form-link"))
    expect(page.locator("h1")).to_have_text("家庭经济状况核查")
    card = page.locator(f"#card-{world['people'][name]}-{world['contract']}")
    expect(card.locator("h2")).to_have_text("杨*妹")  # masked names only
    expect(page.locator("main")).not_to_contain_text("杨细妹")
    page.goto("/login")  # (open_form signs in again: the session goes on)
    card = open_form(page, live_server, world, name)

    page.context.set_offline(True)
    expect(page.locator("#network-state")).to_have_class("network-state is-offline")
    expect(page.locator("#sf-kind-application")).to_be_checked()
    page.locator('label[for="sf-area-rural"]').click()
    page.locator('label[for="sf-area-urban"]').click()
    fill_member(page, 0, name, member_id_number(7, 1))
    page.locator("#sf-add-members").click()
    fill_member(page, 1, "测试配偶", member_id_number(7, 2, "19800721"), relation="spouse")
    expect(page.locator(".member-row")).to_have_count(2)
    page.locator("#sf-add-incomes").click()
    page.locator("#sf-incomes-0-member").select_option(label="成员2 测试配偶")
    page.locator("#sf-incomes-0-amount_fen").fill("1000.50")  # ¥1,000.50 a month: 100,050 fen, never a float
    page.locator("#sf-assets-deposits_fen").fill("3000")
    fill_interview(page)
    expect(page.locator("#sf-interviews-0-interviewed_at")).not_to_have_value("")  # now, by default
    page.locator("#sf-save").click()

    row = card.locator(".survey-row")
    expect(row).to_have_attribute("data-state", "queued")
    expect(page.locator("#survey-form")).to_be_hidden()
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    client_id = row.get_attribute("data-client-id")
    assert stored_with(app, client_id) == [] and posted == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "test_survey_field_offline_queue.png"), full_page=True)

    # Back online: the queue is flushed by the `online` event, and the survey is stored once.
    page.context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(row).to_have_attribute("data-state", "sent")
    stored = stored_with(app, client_id)
    assert [{k: v for k, v in s.items() if k != "id"} for s in stored] == [
        {"members": 2, "incomes": [100_050], "interviews": ["邻居王大姐"], "outcome": "eligible", "source": "web",
         "area": "urban", "visit": True}]
    assert sum(client_id in body for body in posted) == 1
    # The judgement: ¥1,000.50 × 12 / 12 / 2 members = ¥500.25 per person and month, under ¥800.
    expect(row).to_have_attribute("data-outcome", "eligible")
    expect(row).to_have_attribute("data-survey-id", str(stored[0]["id"]))
    expect(row.locator(".survey-outcome")).to_have_text("符合条件")
    expect(row.locator(".survey-per-capita")).to_contain_text("500.25")
    expect(row.locator(".survey-per-capita")).to_contain_text("800.00")
    expect(row.locator(".survey-reasons li").first).to_contain_text("500.25")

    # A reload sends nothing again and keeps the judgement on the card.
    page.reload()
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    expect(card.locator(".survey-row")).to_have_attribute("data-state", "sent")
    expect(card.locator(".survey-outcome")).to_have_text("符合条件")
    page.wait_for_load_state("networkidle")
    assert sum(client_id in body for body in posted) == 1 and len(stored_with(app, client_id)) == 1


def test_a_survey_without_an_interview_or_with_a_negative_amount_is_refused_on_the_phone(app, page, live_server):
    world = survey_world(app)
    posted = []
    page.on("request", lambda request: posted.append(request.url) if (
        request.method == "POST" and request.url.endswith("/api/v1/surveys")) else None)
    open_form(page, live_server, world, "叶春林")
    fill_member(page, 0, "叶春林", member_id_number(8, 1))
    page.locator("#sf-add-incomes").click()
    page.locator("#sf-incomes-0-amount_fen").fill("-20")
    page.locator(".interview-row button.remove-row").click()
    expect(page.locator(".interview-row")).to_have_count(0)
    page.locator("#sf-save").click()
    expect(page.locator("#sf-interviews-error")).to_have_text("请至少记录一次邻里走访。")
    expect(page.locator("#sf-incomes-0-amount_fen-error")).to_have_text("金额不能为负数。")
    expect(page.locator("#sf-incomes-0-amount_fen")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#sf-message")).to_have_text("请先更正标出的项目。")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")

    # A mistyped ID number is said too (its check digit), and typing clears the field's message.
    good = member_id_number(8, 1)
    page.locator("#sf-members-0-id_number").fill(good[:17] + ("1" if good.endswith("0") else "0"))
    page.locator("#sf-incomes-0-amount_fen").fill("20")
    expect(page.locator("#sf-incomes-0-amount_fen-error")).to_have_text("")
    page.locator("#sf-save").click()
    expect(page.locator("#sf-members-0-id_number-error")).to_contain_text("校验")
    expect(page.locator("#sf-interviews-error")).to_have_text("请至少记录一次邻里走访。")
    assert posted == []

    # The form being typed survives a reload (it is kept on the phone).
    page.reload()
    expect(page.locator("#sf-members-0-name")).to_have_value("叶春林")
    expect(page.locator("#sf-incomes-0-amount_fen")).to_have_value("20")


def test_a_refusal_comes_back_for_correction_and_a_conflict_is_said(app, page, live_server):
    from tests.survey_world import body
    world = survey_world(app)
    name = "邹丽娟"
    posted = []
    page.on("request", lambda request: posted.append(request.post_data or "") if (
        request.method == "POST" and request.url.endswith("/api/v1/surveys")) else None)
    card = open_form(page, live_server, world, name)
    # A check digit that fits but a region that never issued numbers: only the server can tell.
    from portal.contractors.demo import id_number
    fill_member(page, 0, name, id_number("99999919800101001"))
    fill_interview(page)
    page.locator("#sf-save").click()
    row = card.locator(".survey-row")
    expect(row).to_have_attribute("data-state", "invalid", timeout=15_000)
    expect(row.locator(".survey-problems")).to_contain_text("1–6")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    client_id = row.get_attribute("data-client-id")
    assert stored_with(app, client_id) == []

    row.locator("button.correct-survey").click()
    expect(page.locator("#sf-members-0-id_number-error")).to_contain_text("1–6")
    expect(page.locator("#sf-members-0-name")).to_have_value(name)
    page.locator("#sf-members-0-id_number").fill(member_id_number(9, 1))
    page.locator("#sf-save").click()
    expect(row).to_have_attribute("data-state", "sent", timeout=15_000)
    assert row.get_attribute("data-client-id") == client_id  # the same survey, corrected
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    assert len(stored_with(app, client_id)) == 1 and sum(client_id in b for b in posted) == 2

    # Another body under a client id the server already holds: 409, kept until discarded.
    taken = body(world, name)["client_id"]
    record(app, world, name, client_id=taken)
    key = page.locator("main").get_attribute("data-queue-key")
    page.evaluate("""([key, clientId, taken]) => {
        const state = JSON.parse(localStorage.getItem(key));
        const copy = JSON.parse(JSON.stringify(state.surveys.find(s => s.client_id === clientId)));
        copy.client_id = taken; copy.body.client_id = taken; copy.id = null; copy.judgement = null; copy.status = null;
        state.surveys.push(copy);
        localStorage.setItem(key, JSON.stringify(state));
    }""", [key, client_id, taken])
    page.evaluate("window.dispatchEvent(new Event('online'))")
    conflict = card.locator(f'.survey-row[data-client-id="{taken}"]')
    expect(conflict).to_have_attribute("data-state", "conflict", timeout=15_000)
    expect(conflict.locator(".visit-state")).to_contain_text("内容不同")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    page.once("dialog", lambda dialog: dialog.accept())
    conflict.locator("button.discard-button").click()
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    assert len(stored_with(app, taken)) == 1


def test_the_form_opens_offline_with_what_was_typed_and_signing_out_forgets_it(app, page, live_server):
    world = survey_world(app)
    open_form(page, live_server, world, "郭水根")
    page.locator("#sf-members-0-name").fill("郭水根")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the service worker's control, which keeps the page as it passes
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    expect(page.locator(f"#card-{world['people']['郭水根']}-{world['contract']}")).to_be_visible()
    online = page.locator(".assignment-card h2").count()  # the world's four families and the demo's
    assert online >= 4

    page.context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text("家庭经济状况核查")
    expect(page.locator("#assignments-message")).to_have_text("当前离线：显示本机保存的服务对象。")
    expect(page.locator(".assignment-card h2")).to_have_count(online)
    expect(page.locator("#survey-form h2")).to_have_text("郭*根")
    expect(page.locator("#sf-members-0-name")).to_have_value("郭水根")

    # Signing out forgets the form being typed and the saved families; a queued survey stays.
    page.context.set_offline(False)
    key = page.locator("main").get_attribute("data-queue-key")  # field-surveys:<user id>:<bureau>
    scope = key[len("field-surveys:"):]
    page.evaluate("(key) => localStorage.setItem(key, JSON.stringify({surveys: []}))", key)
    left = page.evaluate("Object.keys(localStorage)")
    assert f"{key}:draft" in left and f"field:{scope}:survey-assignments" in left
    press(page, page.locator("#sign-out-form button"))
    assert page.evaluate("caches.keys()") == []
    left = page.evaluate("Object.keys(localStorage)")
    assert f"{key}:draft" not in left and f"field:{scope}:survey-assignments" not in left
    assert key in left
