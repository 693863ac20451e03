"""The procurement and supervision portal of civil-affairs bureaus: the app factory."""
import logging

from flask import Flask, g, request
from sqlalchemy.orm import Session

from portal.config import ROOT, config_from_env
from portal.extensions import babel, configure_engines, csrf, db, login_manager, make_limiter, migrate

_hooks_installed = False


def _install_session_hooks():
    """Tenancy and audit hooks live on the Session class, installed once per process."""
    global _hooks_installed
    if _hooks_installed:
        return
    from portal.audit import recorder
    from portal.jobs import queue
    from portal.tenancy import scope
    from portal.tenders import sealing
    scope.install()
    recorder.install()
    queue.install(Session)
    sealing.install()  # sealed bids: tenders/sealing.py
    _hooks_installed = True


def _register_packages(app):
    """Each package's blueprint.py attaches its routes and jobs; the packages, in layer order
    (a lower package never imports a higher one)."""
    from portal.acceptance import blueprint as acceptance
    from portal.accounts import blueprint as accounts
    from portal.api import blueprint as api
    from portal.assessments import blueprint as assessments
    from portal.audit import blueprint as audit
    from portal.beneficiaries import blueprint as beneficiaries
    from portal.billing import blueprint as billing
    from portal.careplans import blueprint as careplans
    from portal.city import blueprint as city
    from portal.contractors import blueprint as contractors
    from portal.contracts import blueprint as contracts
    from portal.dashboard import blueprint as dashboard
    from portal.evaluations import blueprint as evaluations
    from portal.feedback import blueprint as feedback
    from portal.finreports import blueprint as finreports
    from portal.jobs import blueprint as jobs
    from portal.opendata import blueprint as opendata
    from portal.public import blueprint as public
    from portal.scorecards import blueprint as scorecards
    from portal.spotchecks import blueprint as spotchecks
    from portal.stations import blueprint as stations
    from portal.surveys import blueprint as surveys
    from portal.tenancy import blueprint as tenancy
    from portal.tenders import blueprint as tenders
    from portal.violations import blueprint as violations
    from portal.visits import blueprint as visits
    for package in (accounts, tenancy, audit, jobs, api,
                    contractors, tenders, contracts, beneficiaries,
                    visits, violations, spotchecks, assessments, surveys, careplans, stations, feedback, acceptance,
                    scorecards, billing, finreports, evaluations, opendata, public, city, dashboard):
        package.register(app)


def create_app(config=None):
    """Build the app. ``config`` overrides values read from the environment (tests use it)."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.update(config_from_env(**(config or {})))
    # Every <int:…> of every route is an id, 1 … 2³¹−1: out of range is a 404, never an overflow.
    from portal.core.query import IdConverter
    app.url_map.converters["int"] = IdConverter
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    configure_engines(app)  # SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writers
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True,
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side and renewed at login
    csrf.init_app(app)
    make_limiter(app)
    from portal.i18n import CatalogueDomain, select_locale, select_timezone
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    babel.domain_instance = CatalogueDomain()  # finds translations/zh_CN (Babel says zh_Hans_CN)

    from portal.accounts.sessions import DatabaseSessionInterface
    app.session_interface = DatabaseSessionInterface()
    _install_session_hooks()
    if app.config.get("FAST_PASSWORD_HASHING"):
        from portal.accounts.models import use_fast_password_hashing
        use_fast_password_hashing()
    import portal.models  # noqa: F401  every model registered before the first query

    from portal.core import http
    http.register(app)
    from portal.accounts.auth import bind_request_tenant
    app.before_request(bind_request_tenant)

    _register_packages(app)
    # Signal receivers, connected here and nowhere else, so that no package imports one above it:
    # the audit trail records changed bureau settings; contractors name the bureaus a field worker
    # may work for; contracts count the money they commit on a budget line; visits count the units
    # delivered under a contract; open data turns published procurement disclosures and paid
    # statements into OCDS releases; violations records the breaches the visit rules find and
    # follows the decisions on V01; assessments opens a re-assessment when the registry records a
    # stay in hospital or a move, closes it with the next assessment and fills the person's page
    # with the care class; billing names the months of a staffing contract its approved statements
    # settled. Each module's docstring names its signals.
    from portal.assessments import receivers as assessments_receivers
    from portal.audit import receivers as audit_receivers
    from portal.billing import receivers as billing_receivers
    from portal.careplans import receivers as careplans_receivers
    from portal.contractors import receivers as contractors_receivers
    from portal.contracts import receivers as contracts_receivers
    from portal.opendata import receivers as opendata_receivers
    from portal.stations import receivers as stations_receivers
    from portal.surveys import receivers as surveys_receivers
    from portal.violations import receivers as violations_receivers
    from portal.visits import receivers as visits_receivers
    for receivers in (audit_receivers, contractors_receivers, contracts_receivers, visits_receivers,
                      violations_receivers, assessments_receivers, surveys_receivers, careplans_receivers,
                      stations_receivers, billing_receivers, opendata_receivers):
        receivers.subscribe()

    from portal.i18n import register_template_helpers
    register_template_helpers(app)
    from portal.core import pagination
    pagination.register(app)
    from portal import cli
    cli.register(app)

    @app.context_processor
    def _layout_context():
        from flask_login import current_user
        from portal.dashboard.services import NAVIGATION
        role = current_user.role if current_user and current_user.is_authenticated else None
        return {"care_mode": request.cookies.get("care") == "1", "current_tenant": g.get("tenant"),
                "nav_links": NAVIGATION.get(role, [])}

    return app
