"""The words of surveys on pages, in one place for every page of the package (and the public
counts): areas, kinds, categories, outcomes, relations, abilities, incomes, expenses, statuses and
the kinds of change report (docs/DOMAIN.md §6). Lazy, so each is translated in the language of the
page that shows it."""
from flask_babel import lazy_gettext as _l

AREA_LABELS = {"urban": _l("Urban"), "rural": _l("Rural")}
KIND_LABELS = {"application": _l("Application"), "review": _l("Re-survey of a supported family")}
CATEGORY_LABELS = {
    "dibao": _l("Minimum living allowance recipient"),
    "dibao_marginal": _l("Near-minimum-allowance household"),
    "tekun": _l("Person in extreme poverty"),
    "expense_poverty": _l("Expense-type poor household"),
}
OUTCOME_LABELS = {
    "eligible": _l("Eligible"),
    "marginal": _l("Marginal (低保边缘)"),
    "not_eligible": _l("Not eligible"),
    "exit": _l("Exit from assistance"),
}
RELATION_LABELS = {
    "self": _l("Applicant"), "spouse": _l("Spouse"), "child": _l("Child"), "parent": _l("Parent"),
    "grandchild": _l("Grandchild"), "grandparent": _l("Grandparent"), "sibling": _l("Sibling"),
    "other": _l("Other relative"),
}
WORK_ABILITY_LABELS = {"able": _l("Able to work"), "limited": _l("Partly able to work"),
                       "unable": _l("Unable to work")}
INCOME_KIND_LABELS = {"wages": _l("Wages"), "business": _l("Business income"), "property": _l("Property income"),
                      "transfers": _l("Transfer income")}
INCOME_PERIOD_LABELS = {"monthly": _l("per month"), "annual": _l("per year")}
EXPENSE_KIND_LABELS = {"medical": _l("Medical expenses"), "education": _l("Education expenses")}
STATUS_LABELS = {
    "recorded": _l("Awaiting review"),
    "reviewed": _l("Reviewed, awaiting sign-off"),
    "signed_off": _l("Signed off"),
    "returned": _l("Returned"),
}
CHANGE_KIND_LABELS = {
    "income_changed": _l("Income changed"),
    "members_changed": _l("Household members changed"),
    "assets_changed": _l("Assets changed"),
    "other": _l("Other change"),
}


def label(labels, code):
    """The words of ``code`` in ``labels`` (the code itself when unknown, "—" for none)."""
    return labels.get(code, code) if code not in (None, "") else "—"
