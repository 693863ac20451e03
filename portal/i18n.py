"""Language (Chinese first, English second), time zone and template helpers."""
from flask import current_app, request

from portal.core.money import format_fen
from portal.core.timeutil import format_local


def select_locale():
    lang = request.cookies.get("lang") if request else None
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def register_template_helpers(app):
    app.add_template_filter(format_fen, "fen")
    app.add_template_filter(format_local, "local_dt")

    @app.context_processor
    def _locale():
        return {"current_locale": select_locale()}
