"""Counts shown as text: a share as a percentage, in integer arithmetic (no float ever rounds it)."""


def percent_text(part, whole):
    """``part / whole`` as a percentage with two decimals, rounded half up in integers: 1/8 →
    "12.50", 1/3 → "33.33", 2/3 → "66.67"; "" when ``whole`` is 0 (nothing to share)."""
    if not whole:
        return ""
    centi = (2 * part * 10000 + whole) // (2 * whole)
    return f"{centi // 100}.{centi % 100:02d}"
