"""What the bureau's settings page knows of each tenant setting (portal/tenancy/settings.py):
its label, unit, allowed range and how a typed value is read and checked.

A setting is a scalar or a dict of parts (per care class, per category …). Values are read from
the form's text (money typed in yuan, at most two decimals, kept as integer fen) or from JSON (the
stored form: fen for money), and checked by the same rules; ``parse`` returns the values and,
per field, what is wrong, so that a page can show every mistake at once and save nothing."""
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.money import format_fen, parse_yuan
from portal.tenancy.phone import normalise_phone
from portal.tenancy.settings import DEFAULT_SETTINGS

OCID_PREFIX_RE = re.compile(r"^ocds-[a-z0-9]{6}$")
NUMBER_RE = re.compile(r"^[+-]?[0-9]{1,12}(\.[0-9]{1,12})?$")
CARE_CLASSES = (("self_care", _l("Able to care for oneself")), ("partial", _l("Partly unable to care for oneself")),
                ("complete", _l("Fully unable to care for oneself")))
# The eight target groups (beneficiaries/models.py CATEGORIES), for the re-survey schedule.
CATEGORIES = (("dibao", _l("Minimum living allowance recipient")), ("tekun", _l("Person in extreme poverty")),
              ("dibao_marginal", _l("Near-minimum-allowance household")),
              ("expense_poverty", _l("Expense-type poor household")), ("orphan", _l("Orphan")),
              ("de_facto_orphan", _l("De facto unsupported child")), ("disabled", _l("Person with disabilities")),
              ("homeless", _l("Homeless person or beggar")))
WEIGHT_PARTS = (("completion", _l("Completion against quota")), ("verification", _l("Verification pass rate")),
                ("confirmation", _l("Spot-check confirmation rate")), ("satisfaction", _l("Average satisfaction")),
                ("violations", _l("Violations")), ("recheck", _l("Assessment re-check discrepancy")),
                ("care_plans", _l("Care plans delivered")), ("complaints", _l("Upheld public complaints")))
EVALUATION_PARTS = (("scorecards", _l("The year's quarterly scorecards")),
                    ("finance", _l("Use of funds and financial management")),
                    ("management", _l("Internal management and staff")),
                    ("benefit", _l("Social benefit and public opinion")))
YUAN_100K = 100_000 * 100  # fen


@dataclass(frozen=True)
class Rule:
    """How one value is typed and bounded: ``kind`` int, decimal (one decimal place), money (fen),
    ocid (a prefix pattern) or phone (a Chinese telephone number, phone.py); ``optional`` values
    may be left empty (the rule then does not apply)."""
    kind: str
    unit: object = ""
    minimum: int | None = None
    maximum: int | None = None
    optional: bool = False


@dataclass(frozen=True)
class Setting:
    key: str
    section: object
    label: object
    rule: Rule
    parts: tuple = ()          # (part key, label) for a dict setting
    part_rules: tuple = ()     # (part key, Rule) where a part differs from ``rule``
    total: int | None = None   # the parts must add up to this
    note: object = ""

    @property
    def default(self):
        return DEFAULT_SETTINGS[self.key]

    def rule_of(self, part):
        return dict(self.part_rules).get(part, self.rule)

    def fields(self):
        """(form field name, part key or None, label, rule) of each input of the setting."""
        if not self.parts:
            return [(self.key, None, self.label, self.rule)]
        return [(f"{self.key}.{part}", part, label, self.rule_of(part)) for part, label in self.parts]


SECTION_VISITS = _l("Visit verification")
SECTION_CARE = _l("Self-care assessment and care plans")
SECTION_SURVEY = _l("Household economic surveys")
SECTION_SUPERVISION = _l("Supervision and settlement")
SECTION_DISCLOSURE = _l("Disclosure and public feedback")

SETTINGS = (
    Setting("geofence_radius_m", SECTION_VISITS, _l("Geofence radius around the beneficiary's home (V02)"),
            Rule("int", _l("metres"), 50, 5000)),
    Setting("max_travel_kmh", SECTION_VISITS, _l("Fastest possible travel between two visits (V05)"),
            Rule("int", "km/h", 10, 300)),
    Setting("late_upload_hours", SECTION_VISITS, _l("Upload after check-out counted late (V09, warning)"),
            Rule("int", _l("hours"), 1, 720)),
    Setting("assessment_publicity_days", SECTION_CARE, _l("Publicity period of self-care assessments"),
            Rule("int", _l("calendar days"), 1, 30)),
    Setting("assessment_recheck_percent", SECTION_CARE, _l("Share of assessments the bureau re-checks"),
            Rule("int", "%", 1, 100), note=_l("At least one per assessor.")),
    Setting("care_standard_fen", SECTION_CARE, _l("Care standard per care class"),
            Rule("money", _l("yuan per month"), 0, YUAN_100K), parts=CARE_CLASSES),
    Setting("min_services_per_month", SECTION_CARE, _l("Minimum services a month per care class"),
            Rule("int", _l("services per month"), 1, 60), parts=CARE_CLASSES,
            note=_l("At least one of them a visit in person.")),
    Setting("min_living_standard_fen", SECTION_SURVEY, _l("Minimum living standard"),
            Rule("money", _l("yuan per person per month"), 0, YUAN_100K),
            parts=(("urban", _l("Urban")), ("rural", _l("Rural")))),
    Setting("marginal_factor_percent", SECTION_SURVEY,
            _l("Marginal household limit, as a share of the minimum living standard"), Rule("int", "%", 100, 300)),
    Setting("asset_tests", SECTION_SURVEY, _l("Asset tests (empty: no test)"),
            Rule("int", _l("vehicles"), 0, 10, optional=True),
            parts=(("deposits_per_capita_fen", _l("Deposits per household member at most")),
                   ("vehicles", _l("Vehicles at most")), ("dwellings", _l("Dwellings at most"))),
            part_rules=(("deposits_per_capita_fen", Rule("money", _l("yuan"), 0, 100 * YUAN_100K, optional=True)),
                        ("dwellings", Rule("int", _l("dwellings"), 0, 10, optional=True)))),
    Setting("resurvey_months", SECTION_SURVEY, _l("Re-survey of supported families, every (empty: no schedule)"),
            Rule("int", _l("months"), 1, 36, optional=True), parts=CATEGORIES),
    Setting("survey_recheck_percent", SECTION_SURVEY, _l("Share of signed-off surveys the bureau re-checks"),
            Rule("int", "%", 1, 100), note=_l("At least one per surveyor and month.")),
    Setting("spot_check_percent", SECTION_SUPERVISION, _l("Monthly spot-check sample of verified visits"),
            Rule("decimal", "%", 1, 1000), note=_l("At least one visit per worker who worked.")),
    Setting("scorecard_weights", SECTION_SUPERVISION, _l("Quarterly scorecard weights"),
            Rule("int", _l("points"), 0, 100), parts=WEIGHT_PARTS, total=100),
    Setting("financial_report_due_days", SECTION_SUPERVISION, _l("Contractors' financial reports due after the period"),
            Rule("int", _l("calendar days"), 1, 90)),
    Setting("acceptance_sample_percent", SECTION_SUPERVISION, _l("Acceptance: share of the people served asked"),
            Rule("int", "%", 1, 100)),
    Setting("acceptance_sample_min", SECTION_SUPERVISION, _l("Acceptance: people asked at least"),
            Rule("int", _l("people"), 1, 200), note=_l("Everyone served when fewer.")),
    Setting("evaluation_weights", SECTION_SUPERVISION, _l("Annual performance evaluation weights"),
            Rule("int", _l("points"), 0, 100), parts=EVALUATION_PARTS, total=100),
    Setting("evaluation_threshold", SECTION_SUPERVISION,
            _l("Annual evaluation below which a contract is flagged for the renewal decision"),
            Rule("int", _l("points"), 0, 100)),
    Setting("evaluation_due_days", SECTION_SUPERVISION, _l("Annual evaluation published at the latest"),
            Rule("int", _l("days after the year's end"), 1, 365)),
    Setting("contract_penalty_multiplier", SECTION_SUPERVISION,
            _l("Spot-check penalty multiplier proposed for new contracts"), Rule("int", _l("times the price"), 1, 10),
            note=_l("Each contract keeps the multiplier it was signed with.")),
    Setting("ocid_prefix", SECTION_DISCLOSURE, _l("OCDS ocid prefix (empty: derived from the bureau code)"),
            Rule("ocid"), note=_l("ocds- and six lowercase letters or digits, as registered with the Open "
                                  "Contracting Partnership. A published process keeps its ocid.")),
    Setting("feedback_answer_working_days", SECTION_DISCLOSURE, _l("Time to answer public feedback"),
            Rule("int", _l("working days"), 1, 30)),
    Setting("public_phone", SECTION_DISCLOSURE, _l("Public telephone number (empty: none shown)"),
            Rule("phone", optional=True),
            note=_l("Shown with a tap-to-call link on the public pages and in the guides, e.g. 0771-5234567, "
                    "12345 or 13800138000. The bureau's own number only, never a person's.")),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}


# --- showing values ------------------------------------------------------------------------------

def _tenths_text(tenths):
    """spot_check_percent is checked in tenths of a per cent: 25 -> '2.5', 50 -> '5'."""
    whole, tenth = divmod(int(tenths), 10)
    return f"{whole}.{tenth}" if tenth else str(whole)


def show(rule, value):
    """A stored value as the page shows it (money in yuan); '' for an empty optional value."""
    if value is None or value == "":
        return ""
    if rule.kind == "money":
        return format_fen(value) if isinstance(value, int) else str(value)
    if rule.kind == "decimal":
        try:
            return _tenths_text(Decimal(str(value)) * 10)
        except (InvalidOperation, ValueError):
            return str(value)
    return str(value)


def range_text(rule):
    """'50–5000 metres', '0.00–100,000.00 yuan per month', or the pattern of an ocid prefix."""
    if rule.kind == "ocid":
        return "ocds-xxxxxx"
    if rule.kind == "phone":
        return "0771-5234567 · 12345 · 13800138000"
    if rule.kind == "money":
        low, high = format_fen(rule.minimum), format_fen(rule.maximum)
    elif rule.kind == "decimal":
        low, high = _tenths_text(rule.minimum), _tenths_text(rule.maximum)
    else:
        low, high = rule.minimum, rule.maximum
    return f"{low}–{high} {rule.unit}".strip()


def rows(effective):
    """One row per input of every setting: label, unit, default, current value and range."""
    result = []
    for setting in SETTINGS:
        current = effective.get(setting.key, setting.default)
        for name, part, label, rule in setting.fields():
            default = setting.default.get(part) if part else setting.default
            value = (current or {}).get(part) if part else current
            result.append({"setting": setting, "name": name, "id": name.replace(".", "-"),
                           "label": label, "unit": rule.unit, "range": range_text(rule),
                           "default": show(rule, default), "current": show(rule, value),
                           "changed": value != default, "rule": rule})
    return result


# --- reading and checking values -----------------------------------------------------------------

def _out_of_range(rule):
    return _("Enter a value from %(range)s.", range=range_text(rule))


def _from_text(rule, text):
    """(value, error) from what was typed; (None, None) for an empty optional value."""
    text = (text or "").strip()
    if rule.kind in ("ocid", "phone"):
        return _check(rule, text.lower() if rule.kind == "ocid" else text)
    if not text:
        return (None, None) if rule.optional else (None, _("This field is required."))
    if rule.kind == "money":
        try:
            return _check(rule, parse_yuan(text))
        except ValueError:
            return None, _("Enter an amount in yuan with at most two decimals, e.g. 1200.50.")
    plain = text.replace(",", "")
    if not NUMBER_RE.match(plain):  # no exponents, no huge numbers
        return None, _("Enter a number.")
    number = Decimal(plain)
    if rule.kind == "decimal":
        tenths = number * 10
        if tenths != tenths.to_integral_value():
            return None, _("Enter at most one decimal.")
        return _check(rule, int(tenths))
    if number != number.to_integral_value():
        return None, _("Enter a whole number.")
    return _check(rule, int(number))


def _from_json(rule, value):
    """(value, error) from a JSON value in its stored form (money in fen)."""
    if value is None or value == "":
        if rule.kind in ("ocid", "phone"):
            return "", None
        return (None, None) if rule.optional else (None, _("This field is required."))
    if rule.kind in ("ocid", "phone"):
        if not isinstance(value, str):
            return None, _("Enter text.")
        return _check(rule, value.strip().lower() if rule.kind == "ocid" else value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, _("Enter a number.")
    if rule.kind == "money":
        return _check(rule, value) if isinstance(value, int) else (None, _("Money is a whole number of fen."))
    return _from_text(rule, str(value))


def _check(rule, value):
    """The typed value against its range (decimal values in tenths); the stored form returned."""
    if rule.kind == "ocid":
        if value and not OCID_PREFIX_RE.match(value):
            return None, _("Enter ocds- followed by six lowercase letters or digits, or leave it empty.")
        return value, None
    if rule.kind == "phone":
        if not value:
            return "", None
        number = normalise_phone(value)
        if number is None:
            return None, _("Enter a Chinese telephone number: a landline with its area code (0771-5234567), "
                           "a hotline (12345) or a mobile number (13800138000), or leave it empty.")
        return number, None
    if not rule.minimum <= value <= rule.maximum:
        return None, _out_of_range(rule)
    if rule.kind == "decimal":  # stored as a percentage: 5, or 2.5
        return (value // 10 if value % 10 == 0 else float(Decimal(value) / 10)), None
    return value, None


def parse(source, *, from_json=False, only_given=False):
    """Read every setting from ``source`` (form fields by name, or a JSON object by key) and check
    it. Returns (values by setting key, errors by field name). With ``only_given`` a setting that
    ``source`` does not mention is left out (a partial JSON update)."""
    values, errors = {}, {}
    for setting in SETTINGS:
        if from_json:
            if setting.key not in source:
                if only_given:
                    continue
                raw = None
            else:
                raw = source[setting.key]
            if setting.parts and raw is not None and not isinstance(raw, dict):
                errors[setting.key] = [_("Give an object with the keys %(keys)s.",
                                         keys=", ".join(p for p, _label in setting.parts))]
                continue
            if setting.parts:
                unknown = sorted(set(raw or {}) - {p for p, _label in setting.parts})
                if unknown:
                    errors[setting.key] = [_("Unknown keys: %(keys)s.", keys=", ".join(map(str, unknown)))]
                    continue
        elif only_given and not any(name in source for name, *_rest in setting.fields()):
            continue
        value, failed = {} if setting.parts else None, False
        for name, part, _label, rule in setting.fields():
            if from_json:
                given = (raw or {}).get(part) if part else raw
                typed, error = _from_json(rule, given)
            else:
                typed, error = _from_text(rule, source.get(name))
            if error:
                errors[name] = [error]
                failed = True
            elif part and typed is not None:
                value[part] = typed
            elif not part:
                value = typed
        if failed:
            continue
        if setting.total is not None and sum(value.values()) != setting.total:
            errors[setting.key] = [_("The parts must add up to %(total)s; they add up to %(sum)s.",
                                     total=setting.total, sum=sum(value.values()))]
            continue
        values[setting.key] = value
    return values, errors
