"""One-way layers, read from the source with ``ast`` (every import, inside function bodies too).

``LAYERS`` declares the order, lowest first: a package may import its own layer and the layers
below, never one above, and no two packages may import each other, even through others, even in
one layer (no import cycles between packages at all). Effects that must go upward travel by
blinker signals (``disclosure_published``, ``statement_paid``, …) whose receivers the app factory
connects; code that needs a higher package moves up. Every package and top-level module of
``portal/`` must stand in the table, so a new package is placed on purpose.

Modules stay small: none over ``MAX_LINES`` lines."""
import ast
from collections import defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"
MAX_LINES = 400

LAYERS = (
    ("core", "extensions", "config"),
    ("accounts", "tenancy", "audit", "jobs", "files", "api", "i18n", "ops"),  # infrastructure
    ("disclosures",),  # below the features: they call publish(); receivers subscribe to its signal
    ("contractors",),
    ("tenders",),
    ("contracts",),
    ("beneficiaries",),
    ("visits",),
    ("violations", "spotchecks", "assessments", "surveys"),
    ("careplans", "stations", "feedback", "acceptance"),
    ("scorecards",),
    ("billing",),
    ("finreports",),  # beside the settled amounts of billing
    ("evaluations",),  # from scorecards, financial reports and acceptance
    ("opendata", "public"),
    ("city",),
    ("dashboard",),
    ("portal", "models", "cli", "demo"),  # the app factory (portal/__init__.py), the model registry, CLI, demo
)

# Imports known to go against the table that another change removes: (importing file, imported
# module) → who removes it. An entry that no longer matches an import fails the test: delete it.
PENDING = {}


def _module_name(path, root=PORTAL):
    parts = ["portal", *path.relative_to(root).with_suffix("").parts]
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
            if base != "portal":
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


def _units(root):
    """The packages and top-level modules of ``root``, each named as in ``LAYERS``; "portal" is
    the package's own ``__init__.py`` (the app factory)."""
    units = {path.stem for path in root.glob("*.py")} - {"__init__"}
    units |= {path.name for path in root.iterdir() if path.is_dir() and any(path.rglob("*.py"))}
    return units | {"portal"}


def _unit_of(name, units):
    """The unit a dotted import name belongs to, None outside portal; a name imported from the
    portal package itself that is no package or module (``from portal import create_app``) is
    the app factory's."""
    if name == "portal":
        return "portal"
    package = _package_of(name)
    if package is None:
        return None
    return package if package in units else "portal"


def package_imports(root=PORTAL):
    """Every import of one portal unit by another: (importer, imported, "file:line", module)."""
    units = _units(root)
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        importer = _unit_of(module, units)
        for line, name in imported_modules(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            imported = _unit_of(name, units)
            if imported is not None and imported != importer:
                found.append((importer, imported, f"{path.relative_to(root.parent)}:{line}", name))
    return found


def _pending(where, name, pending):
    return (where.rsplit(":", 1)[0], name) in pending


def layer_violations(layers=LAYERS, root=PORTAL, pending=None):
    """``file:line: portal.a (layer i) imports portal.b.c (layer j)`` for every upward import."""
    pending = PENDING if pending is None else pending
    rank = {unit: index for index, layer in enumerate(layers) for unit in layer}
    return sorted(f"{where}: portal.{a} (layer {rank[a]}) imports {name} (layer {rank[b]})"
                  for a, b, where, name in package_imports(root)
                  if a in rank and b in rank and rank[a] < rank[b] and not _pending(where, name, pending))


def undeclared_units(layers=LAYERS, root=PORTAL):
    declared = {unit for layer in layers for unit in layer}
    units = _units(root)
    return sorted(units - declared), sorted(declared - units)


def import_cycles(root=PORTAL, pending=None):
    """Each group of packages that import each other (a strongly connected component of the
    package graph), as one shortest cycle through it with a ``file:line`` for every step."""
    pending = PENDING if pending is None else pending
    edges = defaultdict(dict)
    for a, b, where, name in package_imports(root):
        if not _pending(where, name, pending):
            edges[a].setdefault(b, f"{where} ({name})")
    cycles = []
    for component in _components(edges):
        start = min(component)
        path = _shortest_cycle(start, edges, component)
        steps = [f"  {a} -> {b}: {edges[a][b]}" for a, b in zip(path, path[1:])]
        cycles.append(", ".join(sorted(component)) + " import each other; one cycle: " + " -> ".join(path) + "\n"
                      + "\n".join(steps))
    return sorted(cycles)


def _components(edges):
    """Tarjan's strongly connected components with more than one member."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _shortest_cycle(start, edges, component):
    came_from, queue = {start: None}, deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(edges.get(node, {})):
            if target == start:
                path = [node]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target in component and target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def long_modules(root=PORTAL, limit=MAX_LINES):
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root.parent)}: {lines} lines")
    return found


# --- the checks ---------------------------------------------------------------------------------

def test_every_package_stands_in_the_layer_table():
    missing, gone = undeclared_units()
    assert not missing, f"Place these packages/modules of portal/ in LAYERS: {missing}"
    assert not gone, f"LAYERS names what portal/ no longer has: {gone}"


def test_no_package_imports_a_layer_above_it():
    found = layer_violations()
    assert not found, "Imports against the layer order (lowest first: " + " → ".join(
        "/".join(layer) for layer in LAYERS) + "):\n" + "\n".join(found)


def test_no_import_cycles_between_packages():
    found = import_cycles()
    assert not found, "Packages that import each other:\n" + "\n".join(found)


def test_pending_exceptions_still_match_an_import():
    seen = {(where.rsplit(":", 1)[0], name) for _a, _b, where, name in package_imports()}
    stale = sorted(f"{path} imports {name}" for path, name in PENDING if (path, name) not in seen)
    assert not stale, "Delete these PENDING entries, the import is gone:\n" + "\n".join(stale)


def test_no_module_is_over_the_size_limit():
    found = long_modules()
    assert not found, f"Modules over {MAX_LINES} lines (split them by concept):\n" + "\n".join(found)


# --- the checks can fail ------------------------------------------------------------------------

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


def _tree(tmp_path, files):
    root = tmp_path / "portal"
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def test_an_upward_import_is_reported_with_file_and_line(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "from portal import cli\n",
        "cli.py": "from portal.low.models import Thing\n",
        "low/__init__.py": "",
        "low/models.py": "from portal.core.timeutil import utcnow\n\n\ndef publish():\n"
                         "    from portal.high.views import page\n",
        "high/__init__.py": "from portal import create_app\n",
        "high/views.py": "from .. import low\n",
        "core/__init__.py": "", "core/timeutil.py": "",
    })
    layers = (("core",), ("low",), ("high",), ("portal", "cli"))
    assert undeclared_units(layers, root) == ([], [])
    assert layer_violations(layers, root, pending={}) == [
        "portal/high/__init__.py:1: portal.high (layer 2) imports portal.create_app (layer 3)",
        "portal/low/models.py:5: portal.low (layer 1) imports portal.high.views (layer 2)"]
    assert layer_violations(layers, root, pending={("portal/low/models.py", "portal.high.views"): "",
                                                   ("portal/high/__init__.py", "portal.create_app"): ""}) == []
    assert undeclared_units((("core",), ("low",), ("gone",)), root) == (["cli", "high", "portal"], ["gone"])


def test_a_cycle_in_one_layer_is_reported_with_each_step(tmp_path):
    root = _tree(tmp_path, {
        "a/__init__.py": "from portal.b.x import y\n",
        "b/__init__.py": "",
        "b/x.py": "def f():\n    from portal.c import z\n",
        "c/__init__.py": "import portal.a.models\n",
        "d/__init__.py": "from portal.a import b\n",
    })
    assert layer_violations((("a", "b", "c", "d"),), root, pending={}) == []
    assert import_cycles(root, pending={}) == [
        "a, b, c import each other; one cycle: a -> b -> c -> a\n"
        "  a -> b: portal/a/__init__.py:1 (portal.b.x)\n"
        "  b -> c: portal/b/x.py:2 (portal.c)\n"
        "  c -> a: portal/c/__init__.py:1 (portal.a.models)"]
    assert import_cycles(root, pending={("portal/c/__init__.py", "portal.a.models"): ""}) == []


def test_a_long_module_is_reported(tmp_path):
    root = _tree(tmp_path, {"core/short.py": "x = 1\n" * 400, "core/long.py": "x = 1\n" * 401})
    assert long_modules(root) == ["portal/core/long.py: 401 lines"]
