"""Language (Chinese first, English second), time zone and template helpers."""
from contextlib import contextmanager
from contextvars import ContextVar

from babel import support
from flask import current_app, request
from flask_babel import Domain, get_locale

from portal.core.money import amount_in_words, format_fen
from portal.core.timeutil import format_local


class CatalogueDomain(Domain):
    """Finds the catalogue under the name it was created with.

    Babel names the locale ``zh_CN`` "zh_Hans_CN" (it adds the likely script), and gettext then
    looks only in ``zh_Hans_CN/`` and ``zh/``, never in ``translations/zh_CN/`` where `pybabel
    init -l zh_CN` put the catalogue, so Flask-Babel's own lookup would show no Chinese at all.
    This domain tries the full name, then language_TERRITORY, then the language alone.
    """

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        key = (str(locale), self.domain[0])
        translations = self.cache.get(key)
        if translations is None:
            names = [str(locale)]
            if locale.territory:
                names.append(f"{locale.language}_{locale.territory}")
            names.append(locale.language)
            translations = support.Translations()
            for dirname in self.translation_directories:
                catalogue = support.Translations.load(dirname, names, self.domain[0])
                translations.merge(catalogue)
                if hasattr(catalogue, "plural"):
                    translations.plural = catalogue.plural
            self.cache[key] = translations
        return translations


def select_locale():
    lang = request.cookies.get("lang") if request else None
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


_in_record_locale = ContextVar("in_record_locale", default=False)


@contextmanager
def record_locale():
    """Texts that are records or public notices (disclosures, exception messages, statement
    lines, violation summaries) are written in the bureau's language of record — the default,
    Chinese — whoever presses the button and whatever language their pages are in. Inside
    another record_locale it changes nothing (forcing a locale refreshes Babel's caches: a loop
    judging thousands of visits forces it once)."""
    if _in_record_locale.get():
        yield
        return
    from flask_babel import force_locale
    token = _in_record_locale.set(True)
    try:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield
    finally:
        _in_record_locale.reset(token)


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def register_template_helpers(app):
    app.add_template_filter(format_fen, "fen")
    app.add_template_filter(amount_in_words, "fen_in_words")
    app.add_template_filter(format_local, "local_dt")

    @app.context_processor
    def _locale():
        return {"current_locale": select_locale()}
