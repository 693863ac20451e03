"""The dependency audit of `make security` (.ci/audit_lock.py), offline: pip-audit's report and
PyPI's project documents are stand-ins, so each way the audit decides is exercised without network."""
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "audit_lock.py"
VULN = {"id": "GHSA-xxxx-yyyy-zzzz", "aliases": ["CVE-2026-0001"], "fixed_in": ["3.1.4"], "withdrawn": None}


@pytest.fixture
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("audit_lock_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "pins", lambda: {"flask": "3.1.3", "redis": "8.1.0"})
    monkeypatch.setattr(module, "IN_CI", False)
    return module


def _pip_audit_reports(module, monkeypatch, dependencies):
    def run(output):
        Path(output).write_text(json.dumps({"dependencies": dependencies, "fixes": []}), encoding="utf-8")
        return SimpleNamespace(returncode=1 if any(d.get("vulns") for d in dependencies) else 0, stdout="", stderr="")
    monkeypatch.setattr(module, "run_pip_audit", run)


def _pypi_serves(module, monkeypatch, documents):
    def document(name):
        if name not in documents:
            raise OSError("unreachable")
        return documents[name]
    monkeypatch.setattr(module, "project_document", document)


def test_a_vulnerability_pip_audit_reports_fails_the_run(audit, monkeypatch, capsys):
    _pypi_serves(audit, monkeypatch, {"pip": {}})
    _pip_audit_reports(audit, monkeypatch, [{"name": "flask", "version": "3.1.3", "vulns": [
        {"id": VULN["id"], "aliases": VULN["aliases"], "fix_versions": ["3.1.4"]}]}])
    assert audit.main() == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "flask==3.1.3: GHSA-xxxx-yyyy-zzzz CVE-2026-0001 (fixed in 3.1.4)" in out


def test_a_clean_report_passes(audit, monkeypatch, capsys):
    _pypi_serves(audit, monkeypatch, {"pip": {}})
    _pip_audit_reports(audit, monkeypatch, [{"name": "flask", "version": "3.1.3", "vulns": []}])
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "1 of 1 pinned packages in requirements.lock audited." in out and "no known vulnerabilities" in out


def test_a_skipped_pin_at_the_latest_release_is_audited_from_the_project_document(audit, monkeypatch, capsys):
    skipped = [{"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"}]
    _pip_audit_reports(audit, monkeypatch, skipped)
    _pypi_serves(audit, monkeypatch, {"pip": {}, "flask": {"info": {"version": "3.1.3"}, "vulnerabilities": [VULN]}})
    assert audit.main() == 1
    assert "flask==3.1.3: GHSA-xxxx-yyyy-zzzz" in capsys.readouterr().out
    withdrawn = {**VULN, "withdrawn": "2026-12-01T00:00:00Z"}
    _pypi_serves(audit, monkeypatch, {"pip": {}, "flask": {"info": {"version": "3.1.3"}, "vulnerabilities": [withdrawn]}})
    assert audit.main() == 0


def test_a_skipped_pin_behind_the_latest_release_is_listed_as_not_audited(audit, monkeypatch, capsys):
    _pip_audit_reports(audit, monkeypatch, [{"name": "redis", "skip_reason": "not found"}])
    _pypi_serves(audit, monkeypatch, {"pip": {}, "redis": {"info": {"version": "8.2.0"}, "vulnerabilities": []}})
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "NOT AUDITED" in out and "redis==8.1.0 (latest 8.2.0)" in out
    assert "0 of 1 pinned packages" in out


def test_pypi_out_of_reach_fails_under_ci_and_is_skipped_loudly_elsewhere(audit, monkeypatch, capsys):
    _pypi_serves(audit, monkeypatch, {})
    monkeypatch.setattr(audit, "run_pip_audit", lambda output: pytest.fail("pip-audit ran without PyPI"))
    assert audit.main() == 0
    assert "SKIPPED" in capsys.readouterr().out
    monkeypatch.setattr(audit, "IN_CI", True)
    assert audit.main() == 1
    assert "FAILED" in capsys.readouterr().out


def test_the_lock_is_read_pin_by_pin():
    spec = importlib.util.spec_from_file_location("audit_lock_pins", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pinned = module.pins()
    assert pinned["flask"] and pinned["pip-audit"] == "2.10.1" and pinned["sqlalchemy"]
    assert len(pinned) == sum(1 for line in module.LOCK.read_text().splitlines() if "==" in line)
