"""Job statuses, task names and progress notes are shown in the reader's language (issue 22, item
5): the note is stored untranslated (portal/jobs/labels.py) and translated on the page, singular
or plural by its count."""
import pytest
from flask_babel import force_locale

from portal.extensions import db
from portal.jobs import labels
from portal.jobs.queue import TASKS, enqueue
from portal.tenancy.scope import tenant_scope
from tests import support

pytestmark = pytest.mark.usefixtures("own_queue")


def test_every_registered_task_and_status_has_a_label(app):
    from portal.jobs.models import STATUSES
    assert set(labels.STATUS_LABELS) == set(STATUSES)
    ours = {name for name, func in TASKS.items() if func.__module__.startswith("portal.")}  # not the tests' own
    assert ours and ours <= set(labels.TASK_LABELS), sorted(ours - set(labels.TASK_LABELS))


def test_a_progress_note_is_translated_when_shown_singular_or_plural(app):
    one = labels.deferred_ngettext("%(num)s visit without check-out.", "%(num)s visits without check-out.", 1)
    two = labels.deferred_ngettext("%(num)s visit without check-out.", "%(num)s visits without check-out.", 2)
    later = labels.deferred_gettext("%(month)s has not ended: nothing prepared; it can be prepared from %(day)s.",
                                    month="2099-01", day="2099-02-02")
    assert len(later) <= 200  # the column's size
    with app.test_request_context():
        with force_locale("en"):
            assert labels.progress_text(one) == "1 visit without check-out."
            assert labels.progress_text(two) == "2 visits without check-out."
            assert labels.status_label("finished") == "Finished"
            assert labels.task_label("billing.prepare_month") == "Prepare the month's statements"
        with force_locale("zh_CN"):
            assert labels.progress_text(one) == "1 次走访未签退。"
            assert labels.progress_text(two) == "2 次走访未签退。"
            assert labels.progress_text(later) == "2099-01 尚未结束：未编制任何结算单；自 2099-02-02 起可以编制。"
            assert labels.status_label("finished") == "已完成" and labels.status_label("queued") == "等待开始"
            assert labels.task_label("billing.prepare_month") == "编制当月结算单"
            assert labels.requester_label("scheduler:3:2026-12-07") == "定时任务"
            assert labels.requester_label("jobs:batched") == "批量处理"
            assert labels.requester_label("system") == "平台" and labels.requester_label("settle") == "命令行"
            assert labels.requester_label("gx-admin") == "gx-admin"
        # a plain note (a count "3/10", a note of an older run) is shown as it is
        assert labels.progress_text("3/10") == "3/10" and labels.progress_text("") == ""
        assert labels.progress_text("{not json") == "{not json"


def test_the_jobs_pages_show_statuses_tasks_and_notes_in_chinese_and_in_english(app, demo, login, run_worker):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("billing.prepare_month", month="2099-01").id
        db.session.commit()
    run_worker()
    admin = login("gx-admin")
    page = admin.get("/jobs/").get_data(as_text=True)
    assert "编制当月结算单" in page and "已完成" in page and "尚未结束：未编制任何结算单" in page
    assert '<option value="queued" >等待开始</option>' in page or ">等待开始</option>" in page
    for english in ("billing.prepare_month", ">finished<", ">queued<", "has not ended", ">system<"):
        assert english not in page, english
    finance = login("gx-finance")
    job_page = finance.get(f"/billing/jobs/{run_id}").get_data(as_text=True)
    assert "尚未结束" in job_page and "has not ended" not in job_page

    for client in (admin, finance):
        support.form_post(client, "/preferences/language", {"lang": "en", "next": "/"}, token_url="/")
    page = admin.get("/jobs/").get_data(as_text=True)
    assert "Prepare the month's statements" in page and ">Finished<" in page
    assert "2099-01 has not ended: nothing prepared" in page and "编制当月结算单" not in page
    assert "has not ended" in finance.get(f"/billing/jobs/{run_id}").get_data(as_text=True)


def test_a_note_too_long_for_its_column_is_kept_in_words_not_cut_into_unreadable_json(app):
    with app.test_request_context():
        short = labels.deferred_ngettext("%(num)s visit compared, %(judged)s judged.",
                                         "%(num)s visits compared, %(judged)s judged.", 2, judged=1)
        assert short.startswith("{") and len(short) <= labels.NOTE_LIMIT
        long_note = labels.deferred_gettext("%(quarter)s: %(reason)s", quarter="2026Q3", reason="原因" * 120)
        assert len(long_note) <= labels.NOTE_LIMIT and not long_note.startswith("{")
        assert long_note.startswith("2026Q3") and labels.progress_text(long_note) == long_note


def test_the_bid_deadline_job_is_named_for_all_it_does(app):
    """The hourly job closes bidding and opens the bids (a lot may fail): its name says both."""
    label = labels.TASK_LABELS["tenders.close_bidding_and_flag_late"]
    with app.test_request_context():
        with force_locale("en"):
            assert "open the bids" in str(label)
        with force_locale("zh_CN"):
            assert "开标" in str(label) and "截止投标" in str(label)
