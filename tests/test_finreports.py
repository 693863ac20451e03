"""Contractors' financial reports (issue 20 part 3, docs/DOMAIN.md §7 "Financial reports"): amounts
typed in yuan kept in fen, attachments judged by their content, submitting, finance's review beside
the settled amount of real approved statements, return → correct → resubmit → accept, a second
decision refused (409), the overdue list at its boundary, a manager's isolation and the year summary."""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.core.errors import Conflict, DomainError, NotFound
from portal.extensions import db
from tests import settlement_world as sw
from tests import support

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"
EXE = b"MZ\x90\x00" + b"\x00" * 64
AMOUNTS = {"staff": "1,234.56", "travel": "100", "materials": "0.5", "management": "", "other": "￥2.05"}
TOTAL = 123_456 + 10_000 + 50 + 0 + 205


@pytest.fixture
def world(app, demo):
    return sw.care_contract(app)


def _file(data, name):
    from werkzeug.datastructures import FileStorage
    return FileStorage(io.BytesIO(data), filename=name)


def _report(app, world, period="2026-03", amounts=AMOUNTS, attach=(PDF,), submit=False, manager="a-manager"):
    from portal.finreports import services
    from portal.core.timeutil import utcnow
    with app.app_context(), sw.scope(app):
        user = sw.user(manager)
        report = services.create(user, world["contract"], period, amounts, "说明", today=date(2026, 12, 7))
        for data in attach:
            services.attach(report, user, _file(data, "凭证.pdf"))
        if submit:
            services.submit(report, user, utcnow())
        db.session.commit()
        return report.id


def _get(app, report_id):
    from portal.finreports.models import FinancialReport
    with app.app_context(), sw.scope(app):
        report = db.session.get(FinancialReport, report_id)
        db.session.expunge(report)
        return report


def test_amounts_in_yuan_are_kept_in_fen_exactly_and_the_total_is_their_sum(app, world):
    from portal.finreports import services
    report = _get(app, _report(app, world))
    assert report.amounts == {"staff": 123_456, "travel": 10_000, "materials": 50, "management": 0, "other": 205}
    assert report.total_fen == TOTAL == 133_711
    assert report.status == "draft" and report.due_on == date(2026, 3, 31) + timedelta(days=15)
    with app.app_context(), sw.scope(app):
        for bad in ({"staff": "12.345"}, {"staff": "-1"}, {"travel": "abc"}, {"other": "1e3"}):
            with pytest.raises(DomainError) as refused:
                services.parse_amounts(bad)
            assert set(refused.value.errors) == {f"amount_{next(iter(bad))}"}


def test_period_rules_month_year_within_the_contract_and_from_its_last_day(app, world):
    from portal.finreports import services
    with app.app_context(), sw.scope(app):
        manager = sw.user("a-manager")
        for period, today in (("2025-12", date(2026, 12, 7)), ("2027", date(2028, 1, 5)), ("2026-13", date(2026, 12, 7)),
                              ("26-03", date(2026, 12, 7)), ("2026-11", date(2026, 11, 29)), ("2026", date(2026, 12, 30))):
            with pytest.raises(DomainError) as refused:
                services.create(manager, world["contract"], period, {}, "", today=today)
            assert "period" in refused.value.errors, period
        assert services.create(manager, world["contract"], "2026-11", {}, "", today=date(2026, 11, 30)).status == "draft"
        year = services.create(manager, world["contract"], "2026", {"staff": "1"}, "", today=date(2026, 12, 31))
        assert year.due_on == date(2026, 12, 31) + timedelta(days=15)
        with pytest.raises(Conflict):
            services.create(manager, world["contract"], "2026-11", {}, "", today=date(2026, 12, 7))
        with pytest.raises(DomainError) as refused:  # B's manager: not its contract
            services.create(sw.user("b-manager"), world["contract"], "2026-10", {}, "", today=date(2026, 12, 7))
        assert "contract" in refused.value.errors


def test_attachments_are_judged_by_content_not_by_name(app, world, login):
    from portal.files.models import StoredFile
    from portal.finreports import services
    from portal.finreports.models import FinancialReport
    report_id = _report(app, world, attach=())
    with app.app_context(), sw.scope(app):
        report = db.session.get(FinancialReport, report_id)
        attachment = services.attach(report, sw.user("a-manager"), _file(PNG, "发票.pdf"))
        assert db.session.get(StoredFile, attachment.file_id).content_type == "image/png"
        db.session.commit()
    client = login("a-manager", tenant="ganxian")
    refused = support.form_post(client, f"/financial-reports/{report_id}/attachments",
                                {"file": (io.BytesIO(EXE), "报表.pdf")}, token_url=f"/financial-reports/{report_id}")
    assert refused.status_code == 422
    assert "仅接受 PDF、JPEG、PNG 格式的文件（按文件实际内容判断）" in refused.get_data(as_text=True)
    added = support.form_post(client, f"/financial-reports/{report_id}/attachments",
                              {"file": (io.BytesIO(PDF), "报表.pdf")}, token_url=f"/financial-reports/{report_id}")
    assert added.status_code == 303
    assert len(_get_attachments(app, report_id)) == 2
    download = client.get(f"/financial-reports/{report_id}/attachments/{_get_attachments(app, report_id)[1]}")
    assert download.status_code == 200 and download.data == PDF
    with app.app_context(), sw.scope(app):
        report = db.session.get(FinancialReport, report_id)
        for _n in range(services.MAX_ATTACHMENTS - 2):
            services.attach(report, sw.user("a-manager"), _file(PDF, "x.pdf"))
        with pytest.raises(DomainError):
            services.attach(report, sw.user("a-manager"), _file(PDF, "x.pdf"))


def _get_attachments(app, report_id):
    from portal.finreports.models import FinancialReportAttachment
    with app.app_context(), sw.scope(app):
        return db.session.scalars(select(FinancialReportAttachment.id).where(
            FinancialReportAttachment.report_id == report_id).order_by(FinancialReportAttachment.id)).all()


def test_submit_needs_an_attachment_and_a_total_above_zero(app, world):
    from portal.core.timeutil import utcnow
    from portal.finreports import services
    from portal.finreports.models import FinancialReport
    without_file = _report(app, world, period="2026-04", attach=())
    zero = _report(app, world, period="2026-05", amounts={})
    with app.app_context(), sw.scope(app):
        manager = sw.user("a-manager")
        with pytest.raises(DomainError, match="."):
            services.submit(db.session.get(FinancialReport, without_file), manager, utcnow())
        with pytest.raises(DomainError):
            services.submit(db.session.get(FinancialReport, zero), manager, utcnow())
        report = db.session.get(FinancialReport, without_file)
        services.attach(report, manager, _file(PDF, "a.pdf"))
        assert services.submit(report, manager, utcnow()).status == "submitted"
        with pytest.raises(Conflict):
            services.submit(report, manager, utcnow())
        with pytest.raises(Conflict):  # a submitted report is not changed
            services.update(report, manager, {"staff": "1"}, "")


def test_review_shows_the_settled_amount_and_difference_and_decides_once(app, world, login):
    sw.add_visits(app, world, "2026-09", 10)
    statement_id = sw.approved(app, world, "2026-09")
    assert sw.statement_row(app, statement_id)[3] == 80_000
    report_id = _report(app, world, period="2026-09", submit=True)  # 1,337.11 yuan reported
    finance = login("gx-finance")
    page = finance.get(f"/financial-reports/{report_id}").get_data(as_text=True)
    assert "800.00" in page and "537.11" in page and "review-form" in page
    bad = support.form_post(finance, f"/financial-reports/{report_id}/review", {"decision": "return", "comment": " "},
                            token_url=f"/financial-reports/{report_id}")
    assert bad.status_code == 422 and _get(app, report_id).status == "submitted"
    returned = support.form_post(finance, f"/financial-reports/{report_id}/review",
                                 {"decision": "return", "comment": "差旅费缺少票据"}, token_url=f"/financial-reports/{report_id}")
    assert returned.status_code == 303
    report = _get(app, report_id)
    assert (report.status, report.settled_fen, report.review_comment) == ("returned", 80_000, "差旅费缺少票据")
    again = support.form_post(finance, f"/financial-reports/{report_id}/review", {"decision": "accept"},
                              token_url=f"/financial-reports/{report_id}")
    assert again.status_code == 409  # the decision of this submission is taken
    manager = login("a-manager", tenant="ganxian")
    edited = support.form_post(manager, f"/financial-reports/{report_id}/edit",
                               {**{f"amount_{k}": v for k, v in AMOUNTS.items()}, "amount_travel": "50", "note": "补票"})
    assert edited.status_code == 303 and _get(app, report_id).total_fen == TOTAL - 5_000
    assert support.form_post(manager, f"/financial-reports/{report_id}/submit", {},
                             token_url=f"/financial-reports/{report_id}").status_code == 303
    accepted = support.form_post(finance, f"/financial-reports/{report_id}/review", {"decision": "accept"},
                                 token_url=f"/financial-reports/{report_id}")
    assert accepted.status_code == 303
    report = _get(app, report_id)
    assert (report.status, report.settled_fen, report.total_fen - report.settled_fen) == ("accepted", 80_000, 48_711)
    assert "487.11" in finance.get(f"/financial-reports/{report_id}").get_data(as_text=True)
    from portal.core.timeutil import utcnow
    from portal.finreports import services
    from portal.finreports.models import FinancialReport
    with app.app_context(), sw.scope(app):
        with pytest.raises(Conflict):
            services.review(db.session.get(FinancialReport, report_id), sw.user("gx-finance"), "return", "x", utcnow())
    # the manager cannot review, the officer cannot either
    assert manager.post(f"/financial-reports/{report_id}/review", data={"decision": "accept"}).status_code in (400, 403)
    assert login("gx-officer").post(f"/financial-reports/{report_id}/review").status_code in (400, 403)


def test_year_summary_figures(app, world):
    from portal.contracts.models import Contract
    from portal.core.timeutil import utcnow
    from portal.finreports import services
    from portal.finreports.models import FinancialReport
    from portal.finreports.summary import year_summary
    sw.add_visits(app, world, "2026-09", 10)
    sw.approved(app, world, "2026-09")
    accepted, returned = _report(app, world, "2026-09", submit=True), _report(app, world, "2026-10", submit=True)
    _report(app, world, "2026-11")
    with app.app_context(), sw.scope(app):
        finance = sw.user("gx-finance")
        services.review(db.session.get(FinancialReport, accepted), finance, "accept", "", utcnow())
        services.review(db.session.get(FinancialReport, returned), finance, "return", "补充", utcnow())
        summary = year_summary(db.session.get(Contract, world["contract"]), 2026)
    assert summary == {"reports": 3, "draft": 1, "submitted": 0, "returned": 1, "accepted": 1,
                       "reported_fen": TOTAL, "settled_fen": 80_000, "difference_fen": TOTAL - 80_000}


def test_overdue_at_its_boundary(app, world):
    from portal.contracts.models import Contract
    from portal.finreports import overdue
    with app.app_context(), sw.scope(app):
        contract = db.session.get(Contract, world["contract"])
        contract.starts_on = date(2026, 1, 1)
        db.session.commit()
    _report(app, world, "2026-01", submit=True)
    _report(app, world, "2026-02")  # a draft does not count
    with app.app_context(), sw.scope(app):
        officer = sw.user("gx-officer")

        def months(today):
            return [r.period for r in overdue.overdue_months(officer, today, contract_id=world["contract"])]
        # March is due 31 March + 15 days = 15 April: not overdue that day, overdue the day after
        assert months(date(2026, 4, 15)) == ["2026-02"]
        assert months(date(2026, 4, 16)) == ["2026-02", "2026-03"]
        assert len(months(date(2026, 12, 7))) == 9  # February … October (January submitted; November due 15 Dec)
        assert months(date(2026, 12, 7))[0] == "2026-02"
        assert [r.period for r in overdue.overdue_months(sw.user("b-manager"), date(2026, 12, 7))
                if r.contract.id == world["contract"]] == []
        assert overdue.overdue_months(sw.user("a-worker1"), date(2026, 12, 7)) == []


def test_the_manager_sees_only_its_own_and_another_bureau_nothing(app, world, login):
    report_id = _report(app, world, submit=True)
    other = login("b-manager", tenant="ganxian")
    for path in (f"/financial-reports/{report_id}", f"/financial-reports/{report_id}/edit",
                 f"/financial-reports/{report_id}/print", f"/financial-reports/{report_id}/attachments/{_get_attachments(app, report_id)[0]}"):
        assert other.get(path).status_code == 404, path
    assert str(report_id) not in other.get("/financial-reports/").get_data(as_text=True).split("data-report=")[-1][:5]
    assert 'data-report=' not in other.get("/financial-reports/").get_data(as_text=True)
    assert login("zg-officer").get(f"/financial-reports/{report_id}").status_code == 404
    assert login("a-worker1", tenant="ganxian").get("/financial-reports/").status_code == 403
    assert login("gx-auditor").get(f"/financial-reports/{report_id}").status_code == 200
    own = login("a-manager", tenant="ganxian")
    assert f'data-report="{report_id}"' in own.get("/financial-reports/").get_data(as_text=True)
    assert own.get("/financial-reports/2147483647").status_code == 404
    with app.app_context(), sw.scope(app):
        from portal.finreports import services
        with pytest.raises(NotFound):
            services.get_report(report_id, sw.user("b-manager"))


def test_the_list_pages_filters_searches_and_exports(app, world, login, monkeypatch):
    from openpyxl import load_workbook
    for month in ("2026-01", "2026-02", "2026-03"):
        _report(app, world, month)
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 2)
    officer = login("gx-officer")
    first, second = officer.get("/financial-reports/"), officer.get("/financial-reports/?page=2")
    assert first.status_code == second.status_code == 200
    assert first.get_data(as_text=True).count("data-report=") == 2
    assert second.get_data(as_text=True).count("data-report=") == 1 and "2026-01" in second.get_data(as_text=True)
    assert "pager-notice" in officer.get("/financial-reports/?page=9").get_data(as_text=True)
    assert officer.get("/financial-reports/?q=2026-02").get_data(as_text=True).count("data-report=") == 1
    assert officer.get("/financial-reports/?status=accepted").get_data(as_text=True).count("data-report=") == 0
    book = load_workbook(io.BytesIO(officer.get("/financial-reports/export.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 4 and str(rows[1][4]) == "1234.56"
    overdue = officer.get("/financial-reports/overdue")
    assert overdue.status_code == 200 and officer.get("/financial-reports/overdue.xlsx").status_code == 200


def test_the_new_form_refuses_in_chinese_and_creates(app, world, login):
    manager = login("a-manager", tenant="ganxian")
    refused = support.form_post(manager, "/financial-reports/new", {"contract": str(world["contract"]),
                                                                    "period": "2026/03", "amount_staff": "abc"})
    assert refused.status_code == 422 and "YYYY" in refused.get_data(as_text=True)
    created = support.form_post(manager, "/financial-reports/new", {"contract": str(world["contract"]), "period": "2026-03",
                                                                    "amount_staff": "1,234.56"})
    assert created.status_code == 303
    assert login("gx-finance").get("/financial-reports/new").status_code == 403
