"""The care services a visit may record in its ``services`` (docs/DOMAIN.md §2.2: the catalogue of
the care line). Visits keep the codes as sent — other codes are stored too and simply count for no
plan; care plans (portal/careplans) name these codes with monthly frequencies and count the
verified visits that carry them."""
from flask_babel import lazy_gettext as _l

CARE_SERVICES = ("daily_watch", "personal_care", "hospital_escort", "humanistic_care", "counselling",
                 "emotional_comfort", "home_adaptation", "social_integration", "capability_building")
CARE_SERVICE_LABELS = {
    "daily_watch": _l("Daily watch (日常看护)"),
    "personal_care": _l("Personal care (照料护理)"),
    "hospital_escort": _l("Escort to hospital (送医陪护)"),
    "humanistic_care": _l("Humanistic care (人文关怀)"),
    "counselling": _l("Counselling (心理疏导)"),
    "emotional_comfort": _l("Emotional comfort (精神慰藉)"),
    "home_adaptation": _l("Adapting the home (环境适应)"),
    "social_integration": _l("Social integration (社会融入)"),
    "capability_building": _l("Capability building (能力提升)"),
}
