"""What every app the suite makes would otherwise build again: the tests make about a thousand apps (one per
test that asks for `app`, one per `zhibiao` command a test runs), all of the same URL rules and templates.
Production makes one app per process, so none of this is needed there; conftest installs it for the tests.

- URL builders: werkzeug compiles two builder functions (an AST put through compile()) for each of the
  app's ~110 rules as it is added, about 50 ms of every create_app, a tenth of the suite's CPU time. A builder
  is a function of the rule's text, its parsed parts and its defaults, and takes the rule as its first
  argument, so the one compiled for an equal rule of an earlier app is the same function.
- Templates: each app's Jinja environment would parse and compile every template it renders; a bytecode
  cache shared by the process's apps compiles each once (Jinja checks the source's checksum, so an
  edited template is compiled again).
"""
from __future__ import annotations

from flask import Flask
from jinja2 import BytecodeCache
from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _cached_builder(self: Rule, append_unknown: bool = True):
    defaults = self.defaults or {}
    if any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
        # the builder holds a converter's rendering of that default: not shared
        return _compile_builder(self, append_unknown)
    key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
    if key not in _builders:
        _builders[key] = _compile_builder(self, append_unknown)
    return _builders[key]


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for every app of this process."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


def install() -> None:
    Rule._compile_builder = _cached_builder
    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": ProcessBytecodeCache()}
