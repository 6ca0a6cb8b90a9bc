"""Curator pages of indicator systems: the structured scoring rule of every
leaf, edited beside its text (issue 18 part 4). A rule is written as the JSON
object kb.systems.scoring_rules reads ({"kind": "ceiling", "target": 100, "per_point":
0.3}); an empty box means judged by the evaluator. The save is revision-checked
and validated like every write (SystemSchema), so a bad rule is refused with
the leaf it belongs to and nothing is changed."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for

from server.db import get_session
from kb.library import draft as library
from kb.errors import Conflict, InvalidInput, Problem
from kb.systems.scoring_rules import KIND_NAMES, describe
from web.curator.blueprint import actor, bp
from web.curator.forms import revision_field

MAX_RULE_CHARS = 4000


@dataclass
class LeafRow:
    key: str  # the form field: the leaf's position in the tree ("0.1.2")
    path: str  # 一级 › 二级
    name: str
    indicator: str
    weight: float
    text: str  # the scoring_rule text people read
    rule: str  # the rule as JSON in the box
    described: str


def _walk(nodes: list[dict], prefix: str = "", path: tuple = ()):
    for i, node in enumerate(nodes):
        key = f"{prefix}{i}"
        if node.get("indicator"):
            yield key, path, node
        else:
            yield from _walk(node.get("children") or [], key + ".", path + (node.get("name", ""),))


def leaf_rows(nodes: list[dict], typed: dict[str, str] | None = None) -> list[LeafRow]:
    rows = []
    for key, path, leaf in _walk(nodes):
        rule = leaf.get("rule")
        text = typed[key] if typed is not None and key in typed else (
            json.dumps(rule, ensure_ascii=False) if rule is not None else "")
        rows.append(LeafRow(key, " › ".join(path), leaf.get("name", ""), leaf["indicator"], leaf.get("weight", 0),
                            leaf.get("scoring_rule", ""), text, describe(rule)))
    return rows


def rules_from_form(nodes: list[dict], form) -> tuple[list[dict], list[Problem]]:
    """The tree with each leaf's rule as typed; the problems name the leaf."""
    nodes = json.loads(json.dumps(nodes))  # a copy to change
    problems = []
    for key, _, leaf in _walk(nodes):
        text = (form.get(f"rule-{key}") or "").strip()
        label = f"{leaf.get('name') or leaf['indicator']}（{leaf['indicator']}）"
        if not text:
            leaf.pop("rule", None)
            continue
        if len(text) > MAX_RULE_CHARS:
            problems.append(Problem(f"计分规则超过{MAX_RULE_CHARS}个字符", label))
            continue
        try:
            rule = json.loads(text)
        except ValueError:
            problems.append(Problem("计分规则应为 JSON 对象，如 {\"kind\": \"proportional\", \"target\": 95}", label))
            continue
        if not isinstance(rule, dict):
            problems.append(Problem("计分规则应为 JSON 对象（用 { } 括起）", label))
            continue
        leaf["rule"] = rule
    return nodes, problems


@bp.route("/systems")
def systems():
    found = sorted(library.draft_records(get_session(), "system"), key=lambda s: s.code)
    counts = {s.code: sum(1 for _ in _walk(s.nodes)) for s in found}
    ruled = {s.code: sum(1 for _, _, leaf in _walk(s.nodes) if leaf.get("rule")) for s in found}
    return render_template("curator/systems.html", systems=found, counts=counts, ruled=ruled)


@bp.route("/systems/<code>/rules", methods=["GET", "POST"])
def system_rules(code: str):
    session = get_session()
    current = library.draft_record(session, "system", code)
    if request.method == "GET":
        return render_template("curator/system_rules.html", system=current, rows=leaf_rows(current.nodes),
                               revision=current.revision, kinds=KIND_NAMES)
    typed = {k.removeprefix("rule-"): v for k, v in request.form.items() if k.startswith("rule-")}
    expected = revision_field(request.form, then="再改")

    def again(status: int, revision: int = expected, **extra):
        return render_template("curator/system_rules.html", system=current, rows=leaf_rows(current.nodes, typed),
                               revision=revision, kinds=KIND_NAMES, **extra), status

    nodes, problems = rules_from_form(current.nodes, request.form)
    if problems:
        return again(422, message="有些计分规则需要修改", problems=problems)
    try:
        saved = library.update_record(session, "system", code, {"nodes": nodes}, expected, user=actor())
    except Conflict as exc:
        session.rollback()
        stored = library.draft_record(session, "system", code)
        # the input stays; the form now carries the stored revision, so saving again overwrites on purpose
        return again(409, stored.revision, message=exc.message + "；您的输入仍在下面，确认后再次保存将覆盖对方的修改")
    except InvalidInput as exc:
        session.rollback()
        return again(422, message=exc.message, problems=exc.problems)
    flash(f"已保存“{saved.name}”的计分规则（修订 {saved.revision}）", "success")
    return redirect(url_for("curator.system_rules", code=code))
