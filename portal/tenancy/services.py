"""Creating bureaus."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.services import create_user
from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import all_tenants


def create_tenant(*, code, name, region, admin_username, admin_name, admin_password):
    """A platform admin creates a bureau and its first administrator in one step."""
    with all_tenants():
        if db.session.execute(select(Tenant.id).where(Tenant.code == code)).first():
            raise DomainError(_("A bureau with that code exists."), {"code": [_("A bureau with that code exists.")]})
        tenant = Tenant(code=code, name=name, region=region or "", settings={})
        db.session.add(tenant)
        db.session.flush()
        admin = create_user(username=admin_username, display_name=admin_name, role="admin",
                            password=admin_password, tenant_id=tenant.id)
    return tenant, admin
