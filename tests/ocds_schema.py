"""An offline OCDS 1.1.5 validator built from the schemas the project carries in
portal/opendata/schema/ (no network).

The package schemas refer to the release schema by its ``id`` URL, so the four schemas are put in
a ``referencing`` registry under their ids and validated with jsonschema's Draft 4 validator,
formats included (date-time, uri). Codelists are checked as well: the closed ones are enums in the
schema already, and every field that names a codelist (open ones too: partyRole, documentType,
submissionMethod, awardCriteria, milestoneType, relatedProcess …) is checked against its CSV.

    from tests.ocds_schema import release_package_errors, record_package_errors
    assert release_package_errors(package) == []
"""
from functools import lru_cache
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from portal.opendata import schema as ocds


@lru_cache(maxsize=None)
def schemas():
    """{"release": …, "release-package": …, "record-package": …, "versioned-release": …}."""
    return {kind: ocds.load(kind) for kind in ocds.SCHEMA_FILES}


@lru_cache(maxsize=None)
def registry():
    resources = [(s["id"], Resource.from_contents(s, default_specification=DRAFT4)) for s in schemas().values()]
    return Registry().with_resources(resources)


def _format_checker():
    checker = FormatChecker()

    @checker.checks("uri", raises=ValueError)
    def _uri(value):
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        if not parts.scheme or not (parts.netloc or parts.scheme in ("urn", "mailto")) or " " in value:
            raise ValueError(f"not an absolute URI: {value!r}")
        return True

    return checker


@lru_cache(maxsize=None)
def validator(kind):
    """A Draft 4 validator for "release", "release-package" or "record-package"."""
    return Draft4Validator(schemas()[kind], registry=registry(), format_checker=_format_checker())


codelist = ocds.codelist  # the codes of one codelist CSV (e.g. "partyRole.csv")


def _resolve(node):
    release = schemas()["release"]
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref == release["id"]:
            node = release
        elif ref.startswith("#/definitions/"):
            node = release["definitions"][ref.rsplit("/", 1)[1]]
        else:
            raise ValueError(f"unexpected $ref {ref}")
    return node


def codelist_errors(instance, node=None, path="release"):
    """Values of ``instance`` (a release, compiled or not) that are not in their codelist."""
    node = _resolve(schemas()["release"] if node is None else node)
    errors = []
    if "codelist" in node and instance is not None:
        codes = codelist(node["codelist"])
        for value in instance if isinstance(instance, list) else [instance]:
            if value not in codes:
                errors.append(f"{path}: {value!r} is not in {node['codelist']}")
    if isinstance(instance, dict):
        for key, value in instance.items():
            sub = node.get("properties", {}).get(key)
            if sub is not None:
                errors += codelist_errors(value, sub, f"{path}.{key}")
    elif isinstance(instance, list) and isinstance(node.get("items"), dict):
        for index, value in enumerate(instance):
            errors += codelist_errors(value, node["items"], f"{path}[{index}]")
    return errors


def _schema_errors(kind, instance):
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in sorted(validator(kind).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


def release_package_errors(package):
    """Schema and codelist errors of a release package (empty when valid)."""
    errors = _schema_errors("release-package", package)
    for index, release in enumerate(package.get("releases", [])):
        errors += codelist_errors(release, path=f"releases[{index}]")
    return errors


def record_package_errors(package):
    """Schema and codelist errors of a record package (empty when valid)."""
    errors = _schema_errors("record-package", package)
    for index, record in enumerate(package.get("records", [])):
        for number, release in enumerate(record.get("releases", [])):
            if "ocid" in release:  # embedded, not linked
                errors += codelist_errors(release, path=f"records[{index}].releases[{number}]")
        if "compiledRelease" in record:
            errors += codelist_errors(record["compiledRelease"], path=f"records[{index}].compiledRelease")
    return errors
