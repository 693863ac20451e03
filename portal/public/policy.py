"""Policy pages (eligibility and how to apply for 最低生活保障, 特困人员救助供养, 临时救助): the
sanitising of their rich text and the bureau administrator's editor.

The editor lives on ``manage_bp`` (``/disclosures``), a blueprint of signed-in bureau staff beside
the public one (public/blueprint.py). The officer's list of disclosures due at ``/disclosures/due``
is dashboard's (portal/dashboard/views.py)."""
import nh3
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.core.auth import capability_required
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.public.blueprint import manage_bp
from portal.public.forms import PolicyPageForm
from portal.public.models import POLICY_SLUGS, PolicyPage

POLICY_TITLES = {
    "dibao": _l("Minimum living allowance (最低生活保障)"),
    "tekun": _l("Support for people in extreme poverty (特困人员救助供养)"),
    "linshi": _l("Temporary assistance (临时救助)"),
}

ALLOWED_TAGS = {"p", "br", "h2", "h3", "ul", "ol", "li", "strong", "em", "a",
                "table", "caption", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "th": {"scope", "colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitise_policy_html(html):
    """Keep only the allow-listed tags and attributes: scripts and styles go with their content,
    event handlers (onclick, onerror …), classes, styles and javascript: links are dropped."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_SCHEMES,
                     clean_content_tags={"script", "style"}, link_rel="noopener noreferrer").strip()


def policy_page(slug):
    """The current tenant's page for ``slug`` (None while nobody has written it)."""
    return db.session.execute(select(PolicyPage).where(PolicyPage.slug == slug)).scalar_one_or_none()


def save_policy_page(slug, title, body_html, user, now=None):
    """Create or replace the current tenant's page for ``slug``, storing the sanitised text."""
    if slug not in POLICY_SLUGS:
        raise ValueError(f"unknown policy page {slug!r}")
    page = policy_page(slug)
    if page is None:
        page = PolicyPage(slug=slug)
        db.session.add(page)
    page.title = title.strip()
    page.body_html = sanitise_policy_html(body_html)
    page.updated_at = now or utcnow()
    page.updated_by_id = user.id if user is not None else None
    db.session.flush()
    return page


@manage_bp.route("/policies")
@capability_required("policy.edit")
def policies():
    pages = {p.slug: p for p in db.session.execute(select(PolicyPage)).scalars()}
    return render_template("public/manage_policies.html", pages=pages, slugs=POLICY_SLUGS, titles=POLICY_TITLES)


@manage_bp.route("/policies/<any(dibao, tekun, linshi):slug>", methods=["GET", "POST"])
@capability_required("policy.edit")
def edit_policy(slug):
    page = policy_page(slug)
    form = PolicyPageForm(obj=page)
    if page is None and not form.is_submitted():
        form.title.data = str(POLICY_TITLES[slug])
    if form.validate_on_submit():
        save_policy_page(slug, form.title.data, form.body_html.data, current_user)
        flash(_("The policy page was saved; scripts and unsupported formatting were removed."), "success")
        return redirect(url_for("disclosures.edit_policy", slug=slug))
    return render_template("public/manage_policy_edit.html", form=form, slug=slug, page=page)
