"""The capability table (portal/accounts/permissions.py): every name the code and the templates ask
for exists, and a few role × capability answers, including the differences kept on purpose."""
import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.accounts.permissions import CAPABILITIES, ROLES, Reach, can, reach, roles_for

ROOT = Path(__file__).resolve().parents[1]
# Calls whose string arguments are capability names.
ASKING = {"can", "capability_required", "roles_for", "_of_bureau"}
TEMPLATE_CAN = re.compile(r"""(?<![.\w])can\(\s*["']([^"']+)["']""")


def _called_name(node):
    return getattr(node.func, "attr", getattr(node.func, "id", None))


def capability_names_in_code():
    """(file:line, name) of every string literal passed to can / capability_required / roles_for /
    _of_bureau in portal/, plus the capabilities of the statement workflow's step tables."""
    found = []
    for path in sorted((ROOT / "portal").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called_name(node) in ASKING:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "." in arg.value:
                        found.append((f"{path.relative_to(ROOT)}:{node.lineno}", arg.value))
    return found


def capability_names_in_templates():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [(f"{path.relative_to(ROOT)}:{number}", name) for name in TEMPLATE_CAN.findall(line)]
    return found


def test_every_capability_asked_for_is_in_the_table():
    asked = capability_names_in_code() + capability_names_in_templates()
    assert len(asked) > 100  # the reader finds the calls (it would pass vacuously otherwise)
    unknown = [f"{where}: {name}" for where, name in asked if name not in CAPABILITIES]
    assert not unknown, "capabilities missing from portal/accounts/permissions.py:\n" + "\n".join(unknown)


def test_the_workflow_tables_name_capabilities():
    from portal.billing import steps, views
    assert {step.capability for step in steps.STEPS.values()} <= set(CAPABILITIES)
    assert set(views.ACTIONS) == set(steps.STEPS)  # every step has its page, every page is a step


def test_the_table_grants_only_known_roles():
    for name, capability in CAPABILITIES.items():
        assert capability.roles and set(capability.roles) <= set(ROLES), name


def _user(role, contractor_id=None):
    return SimpleNamespace(role=role, contractor_id=contractor_id, is_authenticated=True)


@pytest.mark.parametrize("role, capability, allowed", [
    ("officer", "tender.edit", True),
    ("supervisor", "tender.edit", False),
    ("contractor_manager", "tender.read", True),
    ("field_worker", "tender.read", False),
    # Bureau readers: the supervisor reads unpublished tenders and every contract, not every statement.
    ("supervisor", "tender.read_unpublished", True),
    ("supervisor", "contract.read_all", True),
    ("supervisor", "statement.read_all", False),
    ("supervisor", "statement.read", False),
    ("finance", "statement.read_all", True),
    ("finance", "statement.approve", True),
    ("officer", "statement.approve", False),
    ("officer", "statement.prepare", True),
    ("contractor_manager", "statement.answer", True),
    ("auditor", "audit.read", True),
    ("auditor", "settings.edit", False),
    ("admin", "settings.edit", True),
    ("platform_admin", "bureau.create", True),
    ("admin", "bureau.create", False),
    ("field_worker", "visit.record", True),
    ("supervisor", "exception.decide", True),
    ("officer", "scorecard.publish", True),
    ("supervisor", "scorecard.publish", False),
])
def test_role_capability_answers(role, capability, allowed):
    assert can(_user(role), capability) is allowed


def test_an_object_narrows_a_contractors_people_to_their_own_organisation():
    contract = SimpleNamespace(contractor_id=7)
    assert can(_user("contractor_manager", 7), "contract.read", contract)
    assert not can(_user("contractor_manager", 8), "contract.read", contract)
    assert not can(_user("contractor_manager", None), "contract.read", contract)
    assert can(_user("auditor"), "contract.read", contract)  # bureau roles: any contract of the bureau
    visit = SimpleNamespace(contractor_id=7)
    assert can(_user("supervisor"), "visit.correct", visit)
    assert not can(_user("contractor_manager", 8), "visit.correct", visit)


def test_reach_limits_a_manager_to_its_organisation_and_a_worker_to_their_own():
    def person(role, contractor_id=None):
        return SimpleNamespace(role=role, contractor_id=contractor_id, id=42)
    assert reach(person("contractor_manager", 7)) == Reach("organisation", 7, 42)
    assert reach(person("contractor_manager", 7)).organisation_id == 7
    assert reach(person("contractor_manager")).organisation_id is None  # a manager of no organisation reaches nothing more
    assert reach(person("field_worker", 7)) == Reach("own", 7, 42)
    assert reach(person("field_worker", 7)).organisation_id is None  # a worker never sees the organisation's rows
    for role in ("admin", "officer", "supervisor", "finance", "auditor", "platform_admin"):
        assert reach(person(role)).kind == "bureau" and reach(person(role)).organisation_id is None


def test_row_scoping_asks_reach_not_the_role():
    """The services that build "visible to" selects branch on reach(user), not on role names."""
    root = Path(__file__).resolve().parents[1] / "portal"
    found = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py"))
             if path.name != "permissions.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\.role\s*(==|!=|in|not in)\s*\(?[\"'](contractor_manager|field_worker)", line)
             and "accounts/models.py" not in str(path)]
    assert not found, found


def test_nobody_anonymous_and_no_unknown_name():
    from flask_login import AnonymousUserMixin

    from portal.accounts.models import User
    assert not can(AnonymousUserMixin(), "user.manage")
    assert not can(None, "user.manage")
    # a deactivated account is refused at sign-in; a job acting for one still reads its role
    assert can(User(role="admin", active=False), "user.manage")
    with pytest.raises(KeyError):
        can(_user("admin"), "user.manage_everything")
    assert roles_for("statement.approve") == ("finance",)


def test_infrastructure_does_not_import_accounts():
    """The gates and the confirmation form sit in portal/core, so tenancy, audit, jobs and files
    never import accounts (accounts imports tenancy: the other direction would be a cycle)."""
    found = []
    for package in ("core", "tenancy", "audit", "jobs", "files"):
        for path in sorted((ROOT / "portal" / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {name}" for name in names
                          if name == "portal.accounts" or name.startswith("portal.accounts.")]
    assert not found, "\n".join(found)


def test_every_role_that_may_read_the_missed_list_is_led_to_it():
    """careplan.missed: each role granted it finds the missed list (careplans.missed_page) in its
    navigation (portal/dashboard/services.py NAVIGATION)."""
    from portal.dashboard.services import NAVIGATION
    lacking = [role for role in roles_for("careplan.missed")
               if "careplans.missed_page" not in [endpoint for _label, endpoint in NAVIGATION.get(role, [])]]
    assert not lacking, lacking
