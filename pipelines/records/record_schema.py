"""The JSON Schema of an archived article record, and the check every new record passes.

The schema (record_schema.json, beside this module) is the one the README documents for
people who read records: required fields, types and formats. Every record the archive stores
is checked with spidermon's JSON Schema validator (jsonschema with format checks) before it
is stored; a record that fails is still stored (nothing is dropped) but counted and reported
with its id, since it means a parser or the writer produced something readers do not expect.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("record_schema.json")


@functools.cache
def record_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator() -> Any:
    from spidermon.contrib.validation import JSONSchemaValidator

    return JSONSchemaValidator(record_schema())


def record_problems(record: dict[str, Any]) -> list[str]:
    """`field: problem` for each way the record departs from the schema; [] when it fits."""
    ok, errors = _validator().validate(record)
    if ok:
        return []
    return sorted(f"{field}: {', '.join(problems)}" for field, problems in errors.items())
