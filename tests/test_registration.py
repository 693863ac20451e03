"""Explicit registration, read from the source: blueprints are made only in a package's
blueprint.py (which names the modules attaching routes to them), no route module is imported for
its side effect after other code (``# noqa: E402``), and no package finds its modules by probing."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"


def _modules():
    for path in sorted(PORTAL.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def test_blueprints_are_made_only_in_blueprint_modules():
    found = [f"{path.relative_to(ROOT)}" for path, source in _modules()
             if re.search(r"\bBlueprint\(", source) and path.name != "blueprint.py"]
    assert not found, "Blueprint(...) outside a package's blueprint.py:\n" + "\n".join(found)


def test_every_blueprint_module_registers_its_package():
    for path in sorted(PORTAL.glob("*/blueprint.py")):
        source = path.read_text(encoding="utf-8")
        assert "def register(app):" in source, path
        assert "app.register_blueprint(" in source, path
        assert f"portal.{path.parent.name}" in source, path  # it names its own route modules


def test_no_route_module_is_imported_for_its_side_effect_or_found_by_probing():
    found = []
    for path, source in _modules():
        for number, line in enumerate(source.splitlines(), start=1):
            if "noqa: E402" in line or "find_spec" in line or "except ImportError" in line:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
