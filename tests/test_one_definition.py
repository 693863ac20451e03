"""One concept, one implementation (issue 14): months, the clock, a visit's times, ids and who may
do what each have one home, read from the source with ``ast``; a second module-level definition
of one of them anywhere in portal/ fails here."""
import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[1] / "portal"

HOMES = {
    **{name: "core/months.py" for name in ("parse_month", "month_or_none", "month_text", "next_month",
                                           "previous_month", "month_bounds", "month_days", "recent_months")},
    "utcnow": "core/timeutil.py",
    "is_id": "core/query.py", "id_arg": "core/query.py", "filter_id_arg": "core/query.py",
    "like_escape": "core/query.py", "like_pattern": "core/query.py",
    "can": "accounts/permissions.py", "reach": "accounts/permissions.py",
    "capability_required": "core/auth.py", "roles_required": "core/auth.py",
}
ONE_CLASS_ATTRIBUTE = {"effective_times": "visits/models.py", "in_delivery": "contracts/models.py"}


def _modules():
    for path in sorted(PORTAL.rglob("*.py")):
        yield path.relative_to(PORTAL).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_each_concept_is_defined_in_its_home_only():
    found = []
    for where, tree in _modules():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in HOMES and HOMES[node.name] != where:
                found.append(f"{where}:{node.lineno} defines {node.name} (its home is {HOMES[node.name]})")
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    name = getattr(item, "name", None)
                    if name in ONE_CLASS_ATTRIBUTE and ONE_CLASS_ATTRIBUTE[name] != where:
                        found.append(f"{where}:{item.lineno} defines {node.name}.{name}")
    assert not found, "\n".join(found)


def test_every_home_defines_its_concept():
    defined = {(where, node.name) for where, tree in _modules() for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    missing = [f"{home}: {name}" for name, home in {**HOMES, **ONE_CLASS_ATTRIBUTE}.items()
               if (home, name) not in defined]
    assert not missing, missing


def test_only_the_clock_asks_the_system_for_the_time():
    found = [f"{where}:{node.lineno}" for where, tree in _modules() if where != "core/timeutil.py"
             for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("now", "utcnow") and isinstance(node.func.value, ast.Name)
             and node.func.value.id == "datetime"]
    assert not found, "call portal.core.timeutil.utcnow instead: " + ", ".join(found)


def test_only_core_query_escapes_like_wildcards():
    """A search escapes LIKE's wildcards with core.query.like_escape / like_pattern, never by hand."""
    found = [f"{where}:{node.lineno}" for where, tree in _modules() if where != "core/query.py"
             for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
             and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in ("%", "_")]
    assert not found, "use portal.core.query.like_pattern: " + ", ".join(found)


def test_only_the_postings_say_who_is_posted_on_a_day():
    """"Posted to a station on a day" is stations.postings.posted_during (and ``covers`` on values
    read): no other module writes the open-ended posting condition itself."""
    found = [where for where, _tree in _modules() if where != "stations/postings.py"
             and "StationPosting.until_on.is_(None)" in (PORTAL / where).read_text(encoding="utf-8")]
    assert not found, "use portal.stations.postings.posted_during: " + ", ".join(found)
