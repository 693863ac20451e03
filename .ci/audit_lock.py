"""Known vulnerabilities in the pinned packages of requirements.lock (`make security`).

pip-audit audits the lock as it stands, without installing anything or resolving anew
(``--no-deps --disable-pip``: every line is an exact pin), against PyPI's vulnerability data (the
OSV database as PyPI serves it per release). A vulnerability found fails the run; fix it by
raising the pin in requirements.lock (and pyproject.toml), or, if it cannot reach this project,
ignore it by id with ``--ignore-vuln`` here, with the reason beside it.

Where PyPI does not serve the per-release document pip-audit reads (a mirror or proxy in front of
PyPI may serve only the project documents), pip-audit skips the package ("not found"). This script
then reads the project's own document, whose vulnerability list is that of the latest release:
for a pin that is the latest release this is the same audit; a pin behind the latest release is
listed as not audited, loudly, with the release it is behind.

PyPI unreachable: under CI=true the run fails; elsewhere it is skipped with a loud message.
Exit status: 0 clean (or skipped outside CI), 1 vulnerabilities or an audit that could not run.
"""
import json
import os
import re
import subprocess  # nosec B404 # runs pip-audit from the project's own virtualenv, no shell
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYPI = "https://pypi.org/pypi"
TIMEOUT = 20
IN_CI = os.environ.get("CI", "").lower() == "true"
# Vulnerabilities accepted by id, each with the reason it cannot reach this project (none so far).
IGNORED = {}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_document(name):
    """PyPI's JSON document of the project ``name`` (its latest release and that release's
    vulnerabilities); raises OSError when PyPI cannot be reached."""
    with urllib.request.urlopen(f"{PYPI}/{canonical(name)}/json", timeout=TIMEOUT) as response:  # nosec B310 # a fixed https URL
        return json.load(response)


def pins():
    """{canonical name: pinned version} of requirements.lock."""
    found = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def reachable():
    try:
        project_document("pip")
        return True, ""
    except (OSError, ValueError) as exc:
        return False, str(exc)


def run_pip_audit(output):
    command = [str(Path(sys.executable).with_name("pip-audit")), "-r", str(LOCK), "--no-deps", "--disable-pip",
               "--progress-spinner", "off", "-f", "json", "-o", output, "--desc", "off"]
    for vuln_id in IGNORED:
        command += ["--ignore-vuln", vuln_id]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # nosec B603 # fixed argument list


def fallback(skipped):
    """Audit the pins pip-audit skipped from their projects' documents: returns (found, behind),
    found = [(name, version, vulnerability)], behind = [(name, version, latest)]."""
    pinned = pins()

    def one(dep):
        document = project_document(dep["name"])
        return dep["name"], pinned[canonical(dep["name"])], document["info"]["version"], \
            document.get("vulnerabilities") or []
    found, behind = [], []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, version, latest, vulns in pool.map(one, skipped):
            if latest != version:
                behind.append((name, version, latest))
                continue
            for vuln in vulns:
                if not vuln.get("withdrawn") and vuln.get("id") not in IGNORED \
                        and not set(vuln.get("aliases") or ()) & set(IGNORED):
                    found.append((name, version, vuln))
    return found, behind


def main():
    ok, reason = reachable()
    if not ok:
        if IN_CI:
            print(f"pip-audit: FAILED: PyPI's vulnerability data cannot be reached under CI=true ({reason})")
            return 1
        print("!" * 78 + f"\npip-audit: SKIPPED, PyPI cannot be reached ({reason}):\n"
              "the pinned packages were NOT audited for known vulnerabilities.\n" + "!" * 78)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "audit.json")
        result = run_pip_audit(output)
        if not os.path.exists(output):
            print(f"pip-audit: FAILED to run (exit {result.returncode}):\n{result.stdout}{result.stderr}")
            return 1
        with open(output, encoding="utf-8") as handle:
            report = json.load(handle)
    dependencies = report.get("dependencies", [])
    found = [(dep["name"], dep["version"], vuln) for dep in dependencies for vuln in dep.get("vulns", [])]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    try:
        more, behind = fallback(skipped) if skipped else ([], [])
    except (OSError, ValueError) as exc:
        print(f"pip-audit: FAILED: PyPI stopped answering mid-audit ({exc})")
        return 1
    found += more
    audited = len(dependencies) - len(behind)
    via = f" ({len(skipped) - len(behind)} of them from their projects' latest-release data)" if skipped else ""
    print(f"pip-audit: {audited} of {len(dependencies)} pinned packages in requirements.lock audited{via}.")
    if behind:
        print("pip-audit: NOT AUDITED (PyPI served no per-release data here, and the pin is behind the latest "
              "release, whose data says nothing of it):")
        for name, version, latest in behind:
            print(f"    {name}=={version} (latest {latest})")
    if found:
        print("pip-audit: FAILED: known vulnerabilities in pinned packages:")
        for name, version, vuln in found:
            fixed = ", ".join(vuln.get("fix_versions") or vuln.get("fixed_in") or []) or "no fix yet"
            print(f"    {name}=={version}: {vuln.get('id')} {' '.join(vuln.get('aliases') or [])} (fixed in {fixed})")
        return 1
    print("pip-audit: no known vulnerabilities in the audited pins.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
