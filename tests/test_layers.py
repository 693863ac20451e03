"""One-way layers, read from the source with ``ast`` (every import, inside function bodies too):
the disclosure records sit below the features that publish, and open data and the public site
sit above them. Features tell open data what happened through signals (``disclosure_published``,
``statement_paid``), never by importing it.

``RULES`` is a table: add a row to forbid one more direction."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"

FEATURES = ("contractors", "tenders", "contracts", "beneficiaries", "visits", "violations", "spotchecks",
            "scorecards", "billing")

# (the packages whose code is checked, the packages they must not import, why)
RULES = (
    (("disclosures",), FEATURES + ("opendata", "public", "dashboard"),
     "portal/disclosures is below the features: they call publish(), receivers subscribe to its signal"),
    (FEATURES, ("opendata", "public"),
     "features send signals (disclosure_published, statement_paid); open data and the public site listen"),
)


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source, module, is_package=False):
    """(line, dotted name) of every import in ``source``, wherever it stands, relative imports
    resolved against ``module``; ``from portal import x`` counts as importing ``portal.x``, and
    ``import_module("portal.x")`` with a literal name counts too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            if _package_of(base) is None:  # from portal import public: the names are packages
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def _package_of(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "portal" else None


def violations(rules=RULES, root=PORTAL):
    """``file:line: portal.a imports portal.b.c — why`` for every import a rule forbids."""
    found = set()
    for packages, forbidden, why in rules:
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                module = _module_name(path)
                for line, name in imported_modules(path.read_text(encoding="utf-8"), module,
                                                   path.name == "__init__.py"):
                    if _package_of(name) in forbidden:
                        found.add(f"{path.relative_to(ROOT)}:{line}: portal.{package} imports {name} — {why}")
    return sorted(found)


def test_no_layer_imports_a_package_above_it():
    found = violations()
    assert not found, "Imports against the layer order:\n" + "\n".join(found)


def test_the_reader_sees_imports_inside_function_bodies_relative_and_dynamic_ones():
    source = ("import os\n"
              "def publish():\n"
              "    from portal.opendata.releases import release_disclosure\n"
              "    from .. import public\n"
              "    import portal.tenders.models\n"
              "    return import_module('portal.billing.signals')\n")
    names = imported_modules(source, "portal.disclosures.services")
    assert (3, "portal.opendata.releases") in names
    assert (4, "portal.public") in names
    assert (5, "portal.tenders.models") in names
    assert (6, "portal.billing.signals") in names
    assert {_package_of(name) for _, name in names} == {None, "opendata", "public", "tenders", "billing"}


def test_a_forbidden_import_is_reported_with_file_and_line(tmp_path, monkeypatch):
    """The check can fail: a disclosure module that imports open data is listed as file:line."""
    fake = tmp_path / "portal"
    (fake / "disclosures").mkdir(parents=True)
    (fake / "disclosures" / "__init__.py").write_text("")
    (fake / "disclosures" / "services.py").write_text(
        "from portal.core.timeutil import utcnow\n\n\ndef publish():\n"
        "    from portal.opendata.releases import release_disclosure\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    found = violations(rules=RULES[:1], root=fake)
    assert found == ["portal/disclosures/services.py:5: portal.disclosures imports portal.opendata.releases — "
                     + RULES[0][2]]
