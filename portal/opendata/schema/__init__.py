"""The official OCDS 1.1.5 schemas and codelists, carried by the project (see NOTICE and LICENSE
in this folder): read from here, offline, by whatever validates or merges open data."""
import csv
import json
from functools import lru_cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent
VERSION = "1.1.5"
SCHEMA_FILES = {"release": "release-schema.json", "release-package": "release-package-schema.json",
                "record-package": "record-package-schema.json",
                "versioned-release": "versioned-release-validation-schema.json"}


@lru_cache(maxsize=None)
def _text(name):
    return (SCHEMA_DIR / name).read_text(encoding="utf-8")


def load(kind):
    """A fresh copy of one schema: "release", "release-package", "record-package" or
    "versioned-release" (callers may change it)."""
    return json.loads(_text(SCHEMA_FILES[kind]))


@lru_cache(maxsize=None)
def codelist(name):
    """The codes of one codelist (e.g. "partyRole.csv")."""
    with (SCHEMA_DIR / "codelists" / name).open(encoding="utf-8", newline="") as handle:
        return frozenset(row["Code"] for row in csv.DictReader(handle))
