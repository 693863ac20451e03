"""Defaults of every *(tenant setting)* in docs/DOMAIN.md; a bureau overrides them per key."""

DEFAULT_SETTINGS = {
    # §6 visits
    "geofence_radius_m": 300,
    "max_travel_kmh": 80,
    "late_upload_hours": 72,
    # §6 self-care assessment
    "assessment_publicity_days": 7,
    "assessment_recheck_percent": 10,
    "care_standard_fen": {"self_care": 0, "partial": 0, "complete": 0},
    "min_services_per_month": {"self_care": 3, "partial": 12, "complete": 18},
    # §6 household economic survey
    "min_living_standard_fen": {"urban": 0, "rural": 0},
    "marginal_factor_percent": 150,
    "asset_tests": {},
    "resurvey_months": {},
    "survey_recheck_percent": 10,
    # §7 supervision
    "spot_check_percent": 5,
    "scorecard_weights": {
        "completion": 20, "verification": 20, "confirmation": 20,
        "satisfaction": 10, "violations": 10, "recheck": 10, "care_plans": 5, "complaints": 5,
    },
    # §7 financial reports: a period's report is due this many days after the period ends
    "financial_report_due_days": 15,
    # §7 acceptance: the share of the people served asked for their opinion, and at least this many
    "acceptance_sample_percent": 10,
    "acceptance_sample_min": 5,
    # §7 annual performance evaluation: the weight of the year's scorecards and of the bureau's own
    # indicators (scored per evaluation), the threshold below which a contract is flagged for the
    # renewal decision (points of 100) and the days after the year's end the evaluation is due
    "evaluation_weights": {"scorecards": 70, "finance": 10, "management": 10, "benefit": 10},
    "evaluation_threshold": 60,
    "evaluation_due_days": 90,
    # §8 settlement: the spot-check penalty multiplier a new contract is proposed with (each
    # contract keeps its own, contracts.spot_check_penalty_multiplier)
    "contract_penalty_multiplier": 2,
    # §9 open data: the OCDS ocid prefix, e.g. the one registered with the Open Contracting
    # Partnership ("ocds-" + 6 characters); empty → derived from the tenant code, stable:
    # "ocds-" + 6 characters of its hash + "-" + the code (portal/opendata/ocids.py)
    "ocid_prefix": "",
    # §9 public feedback
    "feedback_answer_working_days": 5,
    # §9 the bureau's public telephone number (public pages, 关怀版 and the guides; tel: link);
    # empty: none shown (portal/tenancy/phone.py)
    "public_phone": "",
}


def merged_settings(overrides):
    """The defaults with a bureau's overrides applied (nested dicts merged one level deep)."""
    result = {}
    for key, default in DEFAULT_SETTINGS.items():
        value = (overrides or {}).get(key, default)
        if isinstance(default, dict) and isinstance(value, dict):
            value = {**default, **value}
        result[key] = value
    return result


def int_setting(tenant, key, low, high):
    """The tenant's integer setting ``key`` when it is an int from ``low`` to ``high``, else the
    default (also without a tenant): one reader for every package's plain integer settings."""
    value = tenant.setting(key) if tenant is not None else None
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return DEFAULT_SETTINGS[key]


def int_parts_setting(tenant, key):
    """The tenant's setting ``key`` — a dict of non-negative integers, such as weights — part by
    part over the parts of its default; a missing or bad part (or no tenant): the default's."""
    defaults = DEFAULT_SETTINGS[key]
    configured = tenant.setting(key) if tenant is not None else None
    configured = configured if isinstance(configured, dict) else {}
    parts = {}
    for part, default in defaults.items():
        value = configured.get(part, default)
        parts[part] = value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    return parts
