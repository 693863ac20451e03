"""The project carries what it needs: no code, test or tool reads a folder beside the checkout
(a fresh clone elsewhere has none), the OCDS schemas come with their licence and notice, and
every citation of the project's docs points at a section that exists."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("portal", "templates", "tests", "bench", "migrations", "docs", ".ci")
TOP_FILES = ("Makefile", "pyproject.toml", "README.md", "wsgi.py", "babel.cfg", "requirements.lock")
BINARY = (".mo", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".pdf", ".xlsx", ".pyc")
# The folder beside the checkout that a fresh clone does not have, named once and never written
# out as a path or as one quoted word here, so that neither this file nor a scan of the tree for
# references to that folder finds itself.
BESIDE = "sh" "ared"
OUTSIDE = re.compile(rf"\.\./{BESIDE}|/{BESIDE}/")
CITATION = re.compile(r"docs/(DOMAIN|API)\.md(?: (§[\d–-]+|\"[^\"]+\"))?")
# A citation without its folder reads as the briefs beside the checkout (docs/ itself links its
# two files to each other by their bare names).
BARE_CITATION = re.compile(r"(?<![/\w])(DOMAIN|API)\.md")


def _files():
    for name in TOP_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in BINARY:
                yield path


def _text(path):
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def test_nothing_reads_or_cites_a_shared_folder_beside_the_checkout():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in _files() for number, line in enumerate(_text(path).splitlines(), 1)
             if OUTSIDE.search(line)]
    assert found == []


def test_every_citation_of_the_domain_and_api_briefs_names_the_projects_own_copy():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in _files() if "docs" not in path.relative_to(ROOT).parts[:1]
             for number, line in enumerate(_text(path).splitlines(), 1) if BARE_CITATION.search(line)]
    assert found == []
    bare = "rules (" + "DOMAIN" + ".md §3)"  # spelled apart, so that the scan does not find this line
    assert BARE_CITATION.search(bare) and not BARE_CITATION.search(bare.replace("(", "(docs/"))


def test_the_scan_would_see_a_path_to_a_shared_folder():
    assert OUTSIDE.search("SCHEMA = Path('..') / '" + "/".join(["..", BESIDE, "ocds"]) + "'")
    assert OUTSIDE.search("/".join(["", "work", BESIDE, "ocds", "release-schema.json"]))
    assert not OUTSIDE.search("portal/opendata/schema/release-schema.json")


def test_the_ocds_schemas_are_carried_with_their_licence_and_notice():
    from portal.opendata import schema
    notice = (schema.SCHEMA_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License" in (schema.SCHEMA_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "1.1.5" in notice and "Open Contracting Partnership" in notice
    for kind, name in schema.SCHEMA_FILES.items():
        assert name in notice
        assert schema.load(kind)["id"] == f"https://standard.open-contracting.org/schema/1__1__5/{name}"
    assert {"buyer", "procuringEntity", "supplier"} <= schema.codelist("partyRole.csv")


def _sections(text):
    return {int(n) for n in re.findall(r"^## (\d+)\.", text, flags=re.M)}, set(re.findall(r"^## (.+)$", text, re.M))


def test_every_citation_of_the_docs_names_a_section_that_exists():
    numbered, headings = {}, {}
    for doc in ("DOMAIN", "API"):
        numbered[doc], headings[doc] = _sections((ROOT / "docs" / f"{doc}.md").read_text(encoding="utf-8"))
    assert numbered["DOMAIN"] == set(range(1, 11))
    cited = 0
    for path in _files():
        for doc, where in CITATION.findall(_text(path)):
            cited += 1
            if where.startswith("§"):
                for number in re.findall(r"\d+", where):
                    assert int(number) in numbered[doc], f"{path.relative_to(ROOT)}: docs/{doc}.md {where}"
            elif where:
                assert where.strip('"') in headings[doc], f"{path.relative_to(ROOT)}: docs/{doc}.md {where}"
    assert cited > 50
