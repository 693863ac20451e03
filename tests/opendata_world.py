"""The open-data tests' world: the demo with its history, many published intentions, and every
page of a bureau's release packages."""
from datetime import date

from portal.core.timeutil import utcnow
from tests import support, tender_world

API = "/api/v1/public"


def seed_full(app):
    support.seed_demo(app, history=True)


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tender_world.tenant_id(app, code))


def pages(client, code):
    """Every page of the release packages, following links.next from page 1."""
    url, found = f"{API}/{code}/ocds/releases", []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/json"
        found.append(response.get_json())
        url = found[-1].get("links", {}).get("next")
    return found


def publish_intentions(app, count, code="ganxian"):
    """``count`` purchase intentions published through the real service (each one a release)."""
    from portal.extensions import db
    from portal.tenders.models import BudgetLine
    from portal.tenders.planning import new_intention, publish_intention
    with app.app_context(), scope(app, code):
        line = BudgetLine(year=2026, name=f"社会救助专项资金 {utcnow().timestamp()}", fund_source="专项",
                          amount_fen=10**13)
        db.session.add(line)
        db.session.flush()
        for n in range(count):
            intention = new_intention(budget_line=line, title=f"困难群众探访关爱服务 {n + 1}", description="",
                                      budget_fen=1_000_000 + n, expected_month=date(2027, 3, 1))
            publish_intention(intention, utcnow())
        db.session.commit()

