"""No English validation text reaches a clerk: every message marshmallow's fields and validators can give
is put in Chinese (kb.schemas._chinese), and the API's 422s and import reports carry only those."""
from __future__ import annotations

import inspect
import re

import marshmallow.fields as mfields
import marshmallow.validate as mvalidate
import pytest
from marshmallow import ValidationError

from kb.schemas import _chinese

SAMPLE = {"input": "x", "obj_type": "datetime", "awareness": "aware", "choices": "common, specific",
          "values": "a, b", "other": "zhibiao-library", "min": 1, "max": 32, "equal": 6}


def _field_messages():
    for _, cls in inspect.getmembers(mfields, inspect.isclass):
        if issubclass(cls, mfields.Field):
            for message in getattr(cls, "default_error_messages", {}).values():
                yield message.format(**SAMPLE).replace("'x'", "x")


def _validator_messages():
    for _, cls in inspect.getmembers(mvalidate, inspect.isclass):
        if cls is mvalidate.Range:
            continue  # its messages are assembled from parts: _range_messages makes them
        for attr in dir(cls):
            if attr == "default_message" or attr.startswith("message_"):
                yield getattr(cls, attr).format(**SAMPLE)


def _range_messages():
    for low in (True, False):
        for high in (True, False):
            for kwargs in ({"min": 0, "max": 1}, {"min": 0}, {"max": 1}):
                validator = mvalidate.Range(**kwargs, min_inclusive=low, max_inclusive=high)
                with pytest.raises(ValidationError) as info:
                    validator(5 if "max" in kwargs else -5)
                yield info.value.messages[0]


@pytest.mark.parametrize("message", sorted(set(_validator_messages())
                                           | set(_field_messages()) | set(_range_messages())))
def test_every_marshmallow_message_is_put_in_chinese(message):
    chinese = _chinese(message)
    assert re.search("[\u4e00-\u9fff]", chinese), (message, chinese)
    words = set(re.findall(r"[A-Za-z]{3,}", chinese)) - {"common", "specific", "zhibiao", "library", "UTF", "UUID",
                                                         "nan", "infinity", "JSON"}
    assert not words, (message, chinese)


def test_the_api_answers_a_bad_choice_and_a_bad_range_in_chinese(shared_app):
    client = shared_app.test_client()
    body = client.get("/api/v1/indicators?kind=foo&per_page=500").get_json()
    assert body["error"] == "validation_failed"
    assert body["errors"]["query"] == {"kind": ["取值须为：common、specific"], "per_page": ["应在 1–100 之间"]}
