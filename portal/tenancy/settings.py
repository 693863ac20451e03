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
        "satisfaction": 15, "violations": 10, "recheck": 10, "care_plans": 5,
    },
    # §8 settlement: the spot-check penalty multiplier a new contract is proposed with (each
    # contract keeps its own, contracts.spot_check_penalty_multiplier)
    "contract_penalty_multiplier": 2,
    # §9 open data: the OCDS ocid prefix, e.g. the one registered with the Open Contracting
    # Partnership ("ocds-" + 6 characters); empty → derived from the tenant code, stable:
    # "ocds-" + 6 characters of its hash + "-" + the code (portal/opendata/ocids.py)
    "ocid_prefix": "",
    # §9 public feedback
    "feedback_answer_working_days": 5,
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
