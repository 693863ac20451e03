"""Sign-in pages and the bureau administrator's user management."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.accounts import permissions, services
from portal.accounts.blueprint import bp
from wtforms.fields.choices import SelectChoice

from portal.accounts.forms import ROLE_LABELS, ChangePasswordForm, ChooseTenantForm, LoginForm, TenantForm, UserForm
from portal.core.auth import capability_required, is_api_request, login_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.pagination import paginate
from portal.extensions import db
from portal.tenancy.models import Tenant


@bp.app_template_global("can")
def can_in_template(capability, obj=None):
    """``{% if can("tender.edit") %}``: whether the signed-in person holds the capability."""
    return permissions.can(current_user, capability, obj)


def _safe_next(target):
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


KNOWN_CLIENT_COOKIE = "portal_known"
KNOWN_CLIENT_DAYS = 90


def _known_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-client")


def _is_known_client(username):
    """Whether this browser signed in as ``username`` before (a signed cookie set at a successful
    sign-in): such a browser is exempt from the per-username ceiling that strangers may use up."""
    cookie = request.cookies.get(KNOWN_CLIENT_COOKIE)
    if not cookie or not username:
        return False
    try:
        named = _known_serializer().loads(cookie, max_age=KNOWN_CLIENT_DAYS * 86400)
    except BadSignature:
        return False
    return named == username.strip().lower()


def _remember_known_client(response, username):
    response.set_cookie(KNOWN_CLIENT_COOKIE, _known_serializer().dumps(username.lower()),
                        max_age=KNOWN_CLIENT_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    expired = request.method == "GET" and (getattr(session, "expired", False) or request.args.get("expired") == "1")
    status, headers = 200, {}
    if form.validate_on_submit():
        known = _is_known_client(form.username.data)
        try:
            user = services.authenticate(form.username.data, form.password.data, request.remote_addr or "",
                                         known=known)
            epoch = user.auth_epoch  # as read with the password checked
            tenant_id = services.choose_tenant(user, None)
        except services.Throttled as exc:
            form.username.errors.append(exc.message)
            status = 429  # and when to try again, as the API says it
            headers["Retry-After"] = str(services.seconds_until_retry(form.username.data, request.remote_addr or "", known))
        except DomainError as exc:
            form.password.errors.append(exc.message)
        else:
            session.clear()
            session.regenerate()  # a new session id at login: a planted id is worthless
            login_user(user)
            session["_epoch"] = epoch  # a change of password since the check ends this session
            session["tenant_id"] = tenant_id
            services.record_login(user, tenant_id)
            target = _safe_next(request.args.get("next"))
            if tenant_id is None and user.role != "platform_admin":
                target = url_for("accounts.choose_tenant", next=target)
            return _remember_known_client(redirect(target or url_for("dashboard.home")), user.username)
    return render_template("accounts/login.html", form=form, expired=expired), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.record_login(current_user, session.get("tenant_id"), action="logout")
    logout_user()
    session.destroy()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("accounts.login", signed_out=1))
    # The browser drops what its HTTP cache kept of signed-in pages; the field app's copies in
    # Cache Storage are deleted by the sign-in page this redirects to (js/signed-out.js).
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/choose-tenant", methods=["GET", "POST"])
@login_required
def choose_tenant():
    """Auditors and contractor staff act for one bureau per session and choose it here."""
    tenants = db.session.query(Tenant).filter(Tenant.id.in_(current_user.tenant_ids())).order_by(Tenant.code).all()
    form = ChooseTenantForm()
    form.tenant.choices = [SelectChoice(t.code, t.name) for t in tenants]
    if form.validate_on_submit():
        tenant_id = services.choose_tenant(current_user, form.tenant.data)
        session["tenant_id"] = tenant_id
        services.record_login(current_user, tenant_id, action="tenant_chosen")
        return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.home"))
    return render_template("accounts/choose_tenant.html", form=form, tenants=tenants)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        known = _is_known_client(current_user.username)
        try:
            with db.session.begin_nested():
                services.change_password(current_user, form.current.data, form.new.data, keep_sid=session.sid,
                                         address=request.remote_addr or "", known=known)
        except services.Throttled as exc:
            show_refusal(form, exc, "current")
            retry = services.seconds_until_retry(current_user.username, request.remote_addr or "", known)
            return render_template("accounts/change_password.html", form=form), 429, {"Retry-After": str(retry)}
        except DomainError as exc:
            show_refusal(form, exc, "current")
        else:
            session.regenerate()  # this session goes on under a new id; the others have ended
            session["_epoch"] = current_user.auth_epoch  # ...and stays valid under the new stamp
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("dashboard.home"))
    return render_template("accounts/change_password.html", form=form)


@bp.before_app_request
def _require_password_change():
    """After an administrator set the password (a new account, a reset), the person must choose
    their own before doing anything else: the web sends them to the form, the API refuses (403)."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ("accounts.change_password", "accounts.logout", "static")):
        if is_api_request():
            raise services.PasswordChangeRequired()
        return redirect(url_for("accounts.change_password"))


@bp.route("/users")
@capability_required("user.manage")
def users():
    query = request.args.get("q", "").strip()
    page = paginate(services.users_of_tenant(g.tenant.id, query), per_page=25)
    return render_template("accounts/users.html", page=page, q=query, role_labels=ROLE_LABELS,
                           confirm=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@capability_required("user.manage")
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                user = services.create_user(username=form.username.data, display_name=form.display_name.data,
                                            role=form.role.data, password=form.password.data,
                                            tenant_id=g.tenant.id, must_change_password=True)
        except DomainError as exc:
            show_refusal(form, exc, "username")
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form)


@bp.route("/users/<int:user_id>/<any(disable, enable, reset):action>", methods=["POST"])
@capability_required("user.manage")
def user_action(user_id, action):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = services.get_user_of_tenant(user_id, g.tenant.id)
    if user.tenant_id != g.tenant.id:
        abort(404)  # granted outsiders (auditors, contractors) are managed elsewhere
    if action == "reset":
        if user.id == current_user.id:
            raise DomainError(_("You cannot reset your own password here; use Change password."))
        password = services.reset_password(user)
        flash(_("New password for %(name)s: %(password)s — hand it over in person; it must be changed at next sign-in.",
                name=user.username, password=password), "warning")
    else:
        if user.id == current_user.id:
            raise DomainError(_("You cannot disable your own account."))
        services.set_active(user, action == "enable")
        flash(_("User %(name)s updated.", name=user.username), "success")
    return redirect(url_for("accounts.users"))


# --- the platform operator: bureaus and their first administrators ---------------------------

@bp.route("/platform/tenants", methods=["GET", "POST"])
@capability_required("bureau.create")
def tenants():
    form = TenantForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                tenant, _admin = services.create_tenant(
                    code=form.code.data, name=form.name.data, region=form.region.data,
                    admin_username=form.admin_username.data, admin_name=form.admin_name.data,
                    admin_password=form.admin_password.data)
        except DomainError as exc:
            show_refusal(form, exc, "code", aliases={"username": "admin_username", "password": "admin_password"})  # nosec B105 # form field names
        else:
            flash(_("Bureau %(name)s created.", name=tenant.name), "success")
            return redirect(url_for("accounts.tenants"))
    rows = db.session.query(Tenant).order_by(Tenant.code).all()
    return render_template("accounts/tenants.html", form=form, tenants=rows)
