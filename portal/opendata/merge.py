"""The compiled release of a record, by the OCDS 1.1 merge rules.

Releases are merged oldest first (by date, then publication order): objects are merged field by
field; arrays whose items are all objects with an ``id`` are merged item by item on that id (new
ids appended in order); every other array, and the arrays the schema marks ``wholeListMerge``, is
replaced whole; a ``null`` removes the field. The release's own ``id``, ``date`` and ``tag`` are
not merged: the compiled release gets ``tag: ["compiled"]``, the newest date and an id made of
the ocid and that date."""
import copy
from datetime import datetime

WHOLE_LIST = frozenset({"additionalIdentifiers", "additionalClassifications"})
OMIT = frozenset({"id", "date", "tag"})


def _identified(items):
    return bool(items) and all(isinstance(i, dict) and "id" in i for i in items)


def _merge_list(old, new):
    if not isinstance(old, list) or not _identified(old):
        old = []
    by_id = {str(item["id"]): index for index, item in enumerate(old)}
    result = list(old)
    for item in new:
        key = str(item["id"])
        if key in by_id:
            result[by_id[key]] = _merge(result[by_id[key]], item)
        else:
            by_id[key] = len(result)
            result.append(_merge({}, item))
    return result


def _merge(target, update):
    """``update`` merged into a copy of the object ``target``."""
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            merged[key] = _merge(merged.get(key), value)
        elif isinstance(value, list) and key not in WHOLE_LIST and _identified(value):
            merged[key] = _merge_list(merged.get(key), value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def compile_release(releases):
    """The compiled release of one ocid's releases (any order; sorted here)."""
    ordered = [release for _, release in sorted(
        enumerate(releases), key=lambda pair: (datetime.fromisoformat(pair[1]["date"]), pair[0]))]
    compiled = {}
    for release in ordered:
        compiled = _merge(compiled, {k: v for k, v in release.items() if k not in OMIT})
    newest = ordered[-1]
    head = {"ocid": newest["ocid"], "id": f"{newest['ocid']}-{newest['date']}", "date": newest["date"],
            "tag": ["compiled"]}
    return head | {k: v for k, v in compiled.items() if k not in head}
