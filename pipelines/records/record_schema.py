"""The JSON Schema of an archived article record, and the check every new record passes.

The schema (record_schema.json, beside this module) is the one the README documents for
people who read records: required fields, types and formats. Every record the archive stores
is checked against it before it is stored; a record that fails is still stored (nothing is
dropped) but counted and reported with its id, since it means a parser or the writer produced
something readers do not expect.

The check runs for every article of a crawl, so it is compiled once (fastjsonschema: Python
code generated from the schema, with the format checks of spidermon's validator): 0.7 ms a
record through jsonschema's interpreter became about 70 us, format checks included (0.5% of
the CPU a crawl spends per article). Only a record that fails goes through spidermon's JSON
Schema validator (jsonschema with the same format checks), which names every problem, not
just the first.
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


@functools.cache
def _compiled() -> Any:
    import fastjsonschema
    from spidermon.contrib.validation.jsonschema.formats import format_checker

    formats = {
        name: functools.partial(_conforms, format_checker, name) for name in format_checker.checkers
    }
    return fastjsonschema.compile(record_schema(), formats=formats)


def _conforms(checker: Any, name: str, value: Any) -> bool:
    return bool(checker.conforms(value, name))


def record_problems(record: dict[str, Any]) -> list[str]:
    """`field: problem` for each way the record departs from the schema; [] when it fits."""
    from fastjsonschema import JsonSchemaException

    try:
        _compiled()(record)
        return []
    except JsonSchemaException:
        pass  # which problems, all of them: the full validator says
    ok, errors = _validator().validate(record)
    if ok:
        return []
    return sorted(f"{field}: {', '.join(problems)}" for field, problems in errors.items())
