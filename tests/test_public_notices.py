"""The public list of a bureau's notices: published ones only, that bureau only, no login."""
from datetime import date, timedelta

from portal.core.timeutil import utcnow
from portal.disclosures import Disclosure
from portal.extensions import db
from portal.tenancy.scope import tenant_scope


def _notice(app, tenant_id, title, published=True, kind="tender_notice"):
    with app.app_context(), tenant_scope(tenant_id):
        notice = Disclosure(kind=kind, title=title, body="采购人：某区民政局\n项目：测试", due_on=date.today(),
                            published_at=utcnow() - timedelta(hours=1) if published else None)
        db.session.add(notice)
        db.session.commit()
        return notice.id


def test_the_public_reads_a_bureaus_published_notices_without_signing_in(app, client, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    shown = _notice(app, gx, "赣县区招标公告甲")
    hidden = _notice(app, gx, "赣县区尚未发布的公告", published=False)
    other = _notice(app, zg, "章贡区招标公告乙")
    page = client.get("/public/ganxian/").get_data(as_text=True)
    assert "赣县区招标公告甲" in page and "尚未发布" not in page and "章贡区招标公告乙" not in page
    assert client.get(f"/public/ganxian/notices/{shown}").status_code == 200
    assert client.get(f"/public/ganxian/notices/{hidden}").status_code == 404
    assert client.get(f"/public/ganxian/notices/{other}").status_code == 404  # another bureau's id
    assert client.get("/public/nowhere/").status_code == 404


def test_notices_filter_by_kind(app, client, demo):
    gx = demo.tenant_id("ganxian")
    _notice(app, gx, "意向公开一", kind="purchase_intention")
    _notice(app, gx, "结果公告一", kind="award_result")
    page = client.get("/public/ganxian/?kind=award_result").get_data(as_text=True)
    assert "结果公告一" in page and "意向公开一" not in page
