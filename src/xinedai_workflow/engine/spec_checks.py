"""Static checks of parsed process specs: scripts, conditions, timers, forms, lanes, services, DMN."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import isodate
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.specs.base import TaskSpec

from .dmn_cells import dmn_cell_expression, dmn_cell_problem
from .problems import Problem
from .sandbox import ScriptRejected, check_expression, check_script
from .start_defaults import declared_defaults, literal_problem

STAGES = ("assessment", "informal", "formal", "litigation", "mediation", "review", "closed")
Locate = Callable[[str | None], tuple[str | None, int | None]]
_BUILTIN_CALLABLES = frozenset(
    {
        "min",
        "max",
        "sum",
        "any",
        "all",
        "sorted",
        "reversed",
        "enumerate",
        "zip",
        "map",
        "filter",
        "list",
        "dict",
        "set",
        "frozenset",
        "tuple",
        "abs",
        "round",
        "len",
        "str",
        "int",
        "float",
        "bool",
        "isinstance",
        "divmod",
        "range",
        "pow",
        "ValueError",
        "KeyError",
        "Exception",
        "print",
        "chr",
        "ord",
        "hex",
        "oct",
        "callable",
        "complex",
        "slice",
        "repr",
        "hash",
        "issubclass",
        "bin",
    }
)
_jinja = ImmutableSandboxedEnvironment()
# a bare name that is an ISO-8601 duration (P3D, PT2H, P1Y2M10DT2H30M): the author forgot quotes
_ISO_NAME = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$")


def timer_kind(definition: Any) -> str:
    """`duration`, `date` or `cycle`: what the timer's expression must give."""
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    return "date"


def assigned_names(task_specs: Iterable[TaskSpec]) -> frozenset[str]:
    """Every name a script, pre/post script, DMN output or task result of the specs assigns."""
    names: set[str] = set()
    for ts in task_specs:
        names.update(declared_defaults(ts))
        extensions = getattr(ts, "extensions", None) or {}
        for source in (
            getattr(ts, "script", None),
            extensions.get("preScript"),
            extensions.get("postScript"),
        ):
            if isinstance(source, str) and source.strip():
                try:
                    tree = ast.parse(source)
                except SyntaxError:
                    continue
                names.update(
                    n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                )
        table = getattr(getattr(ts, "dmnEngine", None), "decision_table", None)
        if table is not None:
            names.update(o.name for o in table.outputs if o.name)
        result = getattr(ts, "result_variable", None)
        if isinstance(result, str):
            names.add(result)
    return frozenset(names)


def event_definitions(task_spec: TaskSpec) -> list[Any]:
    """The event definitions of a catching/throwing event spec (flattening 'multiple')."""
    definition = getattr(task_spec, "event_definition", None)
    if definition is None:
        return []
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def user_task_properties(task_spec: TaskSpec) -> dict[str, str]:
    """The ``spiffworkflow:properties`` of a task spec (empty if none)."""
    extensions = getattr(task_spec, "extensions", None) or {}
    props = extensions.get("properties") or {}
    return dict(props)


def _called_names(tree: ast.AST) -> set[str]:
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | {
        a.arg for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda)) for a in n.args.args
    }
    return called - defined - assigned


class Findings:
    """Errors (refuse the deploy) and warnings (reported, accepted) found in specs."""

    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def _problem(self, element_id: str | None, message: str) -> Problem:
        file, line = self.locate(element_id)
        return Problem(file, line, element_id, message)

    def error(self, element_id: str | None, message: str) -> None:
        self.errors.append(self._problem(element_id, message))

    def warn(self, element_id: str | None, message: str) -> None:
        self.warnings.append(self._problem(element_id, message))


class SpecChecker:
    """Checks specs against what the runtime offers (helpers, service operations, groups)."""

    def __init__(self, helper_names: Iterable[str], service_operations: Iterable[str]) -> None:
        self.known_callables = frozenset(helper_names) | _BUILTIN_CALLABLES
        self.service_operations = frozenset(service_operations)
        self._assigned: frozenset[str] = frozenset()

    # -- what a spec references ---------------------------------------------------------------
    @staticmethod
    def _task_specs(specs: Iterable[BpmnProcessSpec]) -> Iterator[TaskSpec]:
        for spec in specs:
            yield from spec.task_specs.values()

    def referenced_files(self, specs: Iterable[BpmnProcessSpec]) -> set[str]:
        names: set[str] = set()
        for ts in self._task_specs(specs):
            props = user_task_properties(ts)
            for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
                if props.get(key):
                    names.add(props[key])
        return names

    # -- the checks ---------------------------------------------------------------------------
    def check(self, specs: list[BpmnProcessSpec], forms: Mapping[str, Any], locate: Locate) -> Findings:
        out = Findings(locate)
        self._assigned = assigned_names(self._task_specs(specs))
        for ts in self._task_specs(specs):
            element = getattr(ts, "bpmn_id", None)
            if element is None:
                continue
            self._check_scripts(ts, element, out)
            self._check_start_defaults(ts, element, out)
            self._check_conditions(ts, element, out)
            self._check_events(ts, element, out)
            self._check_service(ts, element, out)
            self._check_dmn(ts, element, out)
            self._check_user_task(ts, element, forms, out)
        return out

    def _code(self, source: str | None, kind: str, element: str, out: Findings) -> None:
        if not source or not source.strip():
            return
        try:
            check_expression(source) if kind == "expression" else check_script(source)
            tree = ast.parse(source.strip(), mode="eval" if kind == "expression" else "exec")
        except ScriptRejected as err:
            where = f" (line {err.line} of the {kind})" if err.line else ""
            out.error(element, f"{kind} rejected by the sandbox{where}: {err}")
            return
        except SyntaxError as err:
            out.error(element, f"{kind} is not valid Python: {err.msg}")
            return
        unknown = sorted(_called_names(tree) - self.known_callables)
        if unknown:
            out.error(element, f"{kind} calls unknown function(s): {', '.join(unknown)}")

    def _check_scripts(self, ts: TaskSpec, element: str, out: Findings) -> None:
        script = getattr(ts, "script", None)
        if isinstance(script, str):
            self._code(script, "script", element, out)
        extensions = getattr(ts, "extensions", None) or {}
        for key in ("preScript", "postScript"):
            if extensions.get(key):
                self._code(extensions[key], "script", element, out)

    @staticmethod
    def _check_start_defaults(ts: TaskSpec, element: str, out: Findings) -> None:
        for name, literal in declared_defaults(ts).items():
            problem = literal_problem(name, literal)
            if problem:
                out.error(element, problem)

    def _check_conditions(self, ts: TaskSpec, element: str, out: Findings) -> None:
        for condition, _target in getattr(ts, "cond_task_specs", None) or []:
            if condition is not None and getattr(condition, "args", None):
                self._code(condition.args[0], "expression", element, out)
        loop_condition = getattr(ts, "condition", None)
        if isinstance(loop_condition, str):
            self._code(loop_condition, "expression", element, out)

    def _check_events(self, ts: TaskSpec, element: str, out: Findings) -> None:
        for definition in event_definitions(ts):
            if isinstance(definition, TimerEventDefinition):
                self._check_timer(definition, element, out)
            elif isinstance(definition, MessageEventDefinition):
                for prop in definition.correlation_properties or []:
                    self._code(prop.retrieval_expression, "expression", element, out)
                payload = getattr(definition, "expression", None)
                if payload:
                    self._code(payload, "expression", element, out)

    def _check_timer(self, definition: Any, element: str, out: Findings) -> None:
        expression = (definition.expression or "").strip()
        if not expression:
            out.error(element, "timer has no expression")
            return
        if _ISO_NAME.match(expression) and expression not in self._assigned:
            out.error(
                element,
                f"timer expression {expression} is read as a variable name: "
                f'write the duration in quotes: "{expression}"',
            )
            return
        self._code(expression, "expression", element, out)
        try:
            literal = ast.literal_eval(expression)
        except (ValueError, SyntaxError):
            return  # computed from case variables at run time; compiled above
        if not isinstance(literal, str):
            out.error(element, f"timer expression must give an ISO-8601 string, got {literal!r}")
            return
        kind = timer_kind(definition)
        try:
            if kind == "cycle":
                TimerEventDefinition.parse_iso_recurring_interval(literal)
            elif kind == "duration" or literal.upper().startswith("P"):
                TimerEventDefinition.parse_iso_duration(literal)
            else:
                TimerEventDefinition.parse_time_or_duration(literal)
        except Exception:
            example = {"cycle": '"R3/PT1H"', "duration": '"P3D"'}.get(kind, '"2026-12-31T17:00:00+08:00"')
            out.error(
                element,
                f"timer {kind} {literal!r} is not a valid ISO-8601 {kind}: write it like {example}",
            )

    def _check_service(self, ts: TaskSpec, element: str, out: Findings) -> None:
        operation = getattr(ts, "operation_name", None)
        if operation is None:
            return
        if operation not in self.service_operations:
            known = ", ".join(sorted(self.service_operations)) or "none"
            out.error(element, f"unknown service operation {operation!r} (available: {known})")
        for name, param in (getattr(ts, "operation_params", None) or {}).items():
            value = param.get("value") if isinstance(param, dict) else None
            if isinstance(value, str):
                self._code(value, "expression", element, out)
            else:
                out.error(element, f"service parameter {name!r} has no value expression")

    def _check_dmn(self, ts: TaskSpec, element: str, out: Findings) -> None:
        engine = getattr(ts, "dmnEngine", None)
        table = getattr(engine, "decision_table", None)
        if table is None:
            return
        for column in table.inputs:
            self._code(column.expression, "expression", element, out)
        for rule in table.rules:
            for entry in rule.inputEntries:
                for lhs in entry.lhs:
                    if lhs is None or not lhs.strip() or lhs.strip() == "-":
                        continue
                    where = entry.id or rule.id or element
                    source = dmn_cell_expression(entry.input.expression, lhs)
                    if source is None:
                        out.error(
                            where, f"DMN cell {lhs.strip()!r} on row {rule.row_number} is not valid Python"
                        )
                        continue
                    before = len(out.errors)
                    self._code(source, "expression", where, out)
                    if len(out.errors) == before:
                        why = dmn_cell_problem(source, lhs, getattr(entry.input, "typeRef", "") or "")
                        if why:
                            label = entry.input.label or entry.input.expression
                            out.error(
                                where, f"DMN cell {lhs.strip()!r} on row {rule.row_number} ({label}): {why}"
                            )
            for output in rule.outputEntries:
                if output.text and output.text.strip():
                    self._code(output.text, "expression", output.id or rule.id or element, out)

    def _check_user_task(self, ts: TaskSpec, element: str, forms: Mapping[str, Any], out: Findings) -> None:
        props = user_task_properties(ts)
        stage = props.get("stage")
        if stage is not None and stage not in STAGES:
            out.error(element, f"stage {stage!r} is not one of {', '.join(STAGES)}")
        if type(ts).__name__ != "UserTask":
            return
        if not getattr(ts, "lane", None):
            out.warn(element, "user task outside any lane; offered to the default group")
        if not props.get("formJsonSchemaFilename"):
            out.warn(element, "user task without a form: completing it accepts no data (only {})")
        for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
            name = props.get(key)
            if name and name not in forms:
                out.error(element, f"{key} names {name!r}, which is not a valid form file in the bundle")
        if props.get("priority") is not None:
            try:
                int(props["priority"])
            except ValueError:
                out.error(element, f"priority must be an integer, got {props['priority']!r}")
        if props.get("dueIn"):
            try:
                isodate.parse_duration(props["dueIn"])
            except (isodate.ISO8601Error, ValueError):
                out.error(element, f"dueIn must be an ISO-8601 duration, got {props['dueIn']!r}")
        instructions = (getattr(ts, "extensions", None) or {}).get("instructionsForEndUser")
        if instructions:
            try:
                _jinja.parse(instructions)
            except TemplateSyntaxError as err:
                out.error(element, f"instructions are not a valid Jinja2 template: {err.message}")
