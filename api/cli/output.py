"""What a command prints for `--json`: one JSON document, Chinese kept readable, dates as ISO text and kb's
data classes and records as their fields."""
from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import click


def json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=json_default))
