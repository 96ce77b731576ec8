"""The sandboxed script environment every diagram expression and script runs in.

SpiffWorkflow's default engine runs plain ``exec``/``eval`` with full builtins; swapping builtins
alone is escapable through ``().__class__.__base__.__subclasses__()``. We compile with
RestrictedPython (no names or attributes starting with ``_``, no ``exec``/``eval``), add our own
static checks (no imports, no reflective builtins), guard the operations that could allocate
without bound in one C call (``**``, sequence repetition, ``range``), and stop a script at a
deadline: the compiler inserts a deadline check at the top of every loop body, function body,
``except``/``finally`` block and comprehension, so a runaway script cannot catch its way out
(a trace function would not do: CPython drops it after the first exception it raises).
"""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .sandbox_guards import Guards, ScriptLimitExceeded, check_format_spec
from .storable import UnstorableValue, all_surely_storable, check_storable

MAX_RANGE = 100_000

FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "globals",
        "locals",
        "vars",
        "dir",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "object",
        "super",
        "input",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "memoryview",
        "bytearray",
        "classmethod",
        "staticmethod",
        "property",
        "id",
        "__import__",
    }
)


class ScriptRejected(Exception):
    """A script or expression is not allowed in the sandbox (found before running it)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class ScriptTimeout(Exception):
    """A script ran past its time limit."""


_deadline = threading.local()


def _tick() -> bool:
    """Inserted by the compiler into every loop, function, handler and comprehension."""
    limit = getattr(_deadline, "at", None)
    if limit is not None and time.monotonic() > limit:
        raise ScriptTimeout(f"script exceeded its time limit of {_deadline.seconds:g} s")
    return True


@dataclass(frozen=True)
class SandboxLimits:
    """How long one script or expression may run."""

    time_limit_seconds: float = 1.0


def _bound_names(tree: ast.AST) -> frozenset[str]:
    """Names a script binds itself: parameters, assignment/loop/with targets, except aliases."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.ExceptHandler, ast.FunctionDef)) and node.name:
            names.add(node.name)
    return frozenset(n for n in names if not n.startswith("_"))


_BINOP_GUARDS = {
    ast.Pow: "_xin_pow_",
    ast.Mult: "_xin_mul_",
    ast.LShift: "_xin_lshift_",
    ast.Add: "_xin_add_",
    ast.Mod: "_xin_mod_",
}


def _guard_call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus our own rules and the guarded operators."""

    def visit_Import(self, node: Any) -> Any:
        self.error(node, "import is not allowed in diagram scripts")
        return node

    def visit_ImportFrom(self, node: Any) -> Any:
        self.error(node, "import is not allowed in diagram scripts")
        return node

    def visit_Global(self, node: Any) -> Any:
        self.error(node, "global is not allowed in diagram scripts")
        return node

    def visit_Nonlocal(self, node: Any) -> Any:
        self.error(node, "nonlocal is not allowed in diagram scripts")
        return node

    def visit_ClassDef(self, node: Any) -> Any:
        self.error(node, "class definitions are not allowed in diagram scripts")
        return node

    def visit_AsyncFunctionDef(self, node: Any) -> Any:
        self.error(node, "async code is not allowed in diagram scripts")
        return node

    def visit_Name(self, node: Any) -> Any:
        # A name the script binds itself (a parameter, an assignment) is its own variable, not
        # the builtin, which the sandbox does not offer anyway: `def f(input)` is harmless.
        if node.id in FORBIDDEN_NAMES and node.id not in getattr(self, "_bound", ()):
            self.error(node, f'"{node.id}" is not available in diagram scripts')
            return node
        return super().visit_Name(node)

    def visit_BinOp(self, node: Any) -> Any:
        node = super().visit_BinOp(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)

    def _ticked(self, body: list[ast.stmt], anchor: ast.AST) -> list[ast.stmt]:
        tick = ast.Expr(value=ast.Call(func=ast.Name(id="_xin_tick_", ctx=ast.Load()), args=[], keywords=[]))
        return [ast.copy_location(tick, anchor), *body]

    def visit_Module(self, node: Any) -> Any:
        self._bound = _bound_names(node)
        visited: Any = super().visit_Module(node)
        return ast.fix_missing_locations(visited)

    def visit_Expression(self, node: Any) -> Any:
        self._bound = _bound_names(node)
        visited: Any = super().visit_Expression(node)
        return ast.fix_missing_locations(visited)

    def visit_While(self, node: Any) -> Any:
        node = super().visit_While(node)
        node.body = self._ticked(node.body, node)
        return node

    def visit_For(self, node: Any) -> Any:
        node = super().visit_For(node)
        node.body = self._ticked(node.body, node)
        return node

    def visit_FunctionDef(self, node: Any) -> Any:
        node = super().visit_FunctionDef(node)
        node.body = self._ticked(node.body, node)
        return node

    def visit_Lambda(self, node: Any) -> Any:
        node = super().visit_Lambda(node)
        tick = ast.Call(func=ast.Name(id="_xin_tick_", ctx=ast.Load()), args=[], keywords=[])
        node.body = ast.copy_location(ast.BoolOp(op=ast.And(), values=[tick, node.body]), node.body)
        return node

    def visit_ExceptHandler(self, node: Any) -> Any:
        node = super().visit_ExceptHandler(node)
        node.body = self._ticked(node.body, node)
        return node

    def visit_Try(self, node: Any) -> Any:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody = self._ticked(node.finalbody, node)
        return node

    def visit_comprehension(self, node: Any) -> Any:
        node = super().visit_comprehension(node)
        tick = ast.Call(func=ast.Name(id="_xin_tick_", ctx=ast.Load()), args=[], keywords=[])
        node.ifs = [ast.copy_location(tick, node.iter), *node.ifs]
        return node

    def visit_AugAssign(self, node: Any) -> Any:
        if isinstance(node.op, (ast.Pow, ast.Mult, ast.LShift)):
            self.error(node, "use x = x * y instead of an augmented *, ** or << assignment")
            return node
        return super().visit_AugAssign(node)

    def visit_JoinedStr(self, node: Any) -> Any:
        node = self.node_contents_visit(node)
        return ast.copy_location(_guard_call("_xin_joined_", node), node)

    def visit_FormattedValue(self, node: Any) -> Any:
        spec = node.format_spec
        if spec is not None:
            if any(not isinstance(part, ast.Constant) for part in spec.values):
                self.error(node, "f-string format specs must be constant in diagram scripts")
                return node
            try:
                check_format_spec("".join(str(part.value) for part in spec.values))
            except ScriptLimitExceeded as err:
                self.error(node, str(err))
                return node
        node.value = ast.copy_location(_guard_call("_xin_fval_", self.visit(node.value)), node.value)
        return node


_guards = Guards(_tick)


def _limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise ScriptLimitExceeded(f"range longer than {MAX_RANGE}")
    return rng


def _guarded_getitem(obj: Any, index: Any) -> Any:
    if isinstance(index, str) and index.startswith("_"):
        raise KeyError(index)
    return obj[index]


def _guarded_getiter(obj: Any) -> Any:
    return iter(obj)


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, ModuleType):
        raise AttributeError("module attributes are not available in diagram scripts")
    if name in {"ljust", "rjust", "center", "zfill", "expandtabs", "mro", "gi_frame", "f_globals"}:
        raise AttributeError(f'"{name}" is not available in diagram scripts')
    return _guards.method(obj, name, safer_getattr(obj, name, default))


_EXTRA_BUILTINS: dict[str, Any] = {
    "min": min,
    "max": max,
    "sum": _guards.sum_,
    "any": any,
    "all": all,
    "sorted": sorted,
    "reversed": reversed,
    "enumerate": enumerate,
    "zip": zip,
    "map": map,
    "filter": filter,
    "list": list,
    "dict": dict,
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    "abs": abs,
    "round": _guards.round_,
    "len": len,
    "str": str,
    "int": _guards.int_,
    "float": float,
    "bool": bool,
    "isinstance": isinstance,
    "divmod": divmod,
    "range": _limited_range,
    "pow": _guards.pow_,
    "format": _guards.format_,
    "ValueError": ValueError,
    "KeyError": KeyError,
    "Exception": Exception,
}

_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in FORBIDDEN_NAMES}
_BUILTINS.update(_EXTRA_BUILTINS)
_BUILTINS.pop("__build_class__", None)

_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": _guarded_getitem,
    "_getiter_": _guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_print_": PrintCollector,
    "_xin_pow_": _guards.pow_,
    "_xin_mul_": _guards.mul,
    "_xin_lshift_": _guards.lshift,
    "_xin_add_": _guards.add,
    "_xin_mod_": _guards.mod,
    "_xin_joined_": _guards.joined,
    "_xin_fval_": _guards.formatted,
    "_xin_tick_": _tick,
    "_inplacevar_": lambda op, x, y: _INPLACE[op](x, y),
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _guards.add,
    "-=": lambda x, y: x - y,
    "/=": lambda x, y: x / y,
    "//=": lambda x, y: x // y,
    "%=": _guards.mod,
    "|=": lambda x, y: x | y,
    "&=": lambda x, y: x & y,
}


def _first_line(errors: Iterable[str]) -> int | None:
    for err in errors:
        if err.startswith("Line "):
            head = err[5:].split(":", 1)[0]
            if head.isdigit():
                return int(head)
    return None


@lru_cache(maxsize=4096)
def compile_expression(expression: str) -> CodeType:
    """Compile an expression for the sandbox, or raise `ScriptRejected`."""
    result = compile_restricted_eval(expression.strip(), "<diagram>", policy=_Policy)
    if result.errors or result.code is None:
        raise ScriptRejected("; ".join(result.errors) or "invalid expression", _first_line(result.errors))
    return result.code


@lru_cache(maxsize=4096)
def compile_script(script: str) -> CodeType:
    """Compile a script for the sandbox, or raise `ScriptRejected`."""
    result = compile_restricted_exec(script, "<diagram>", policy=_Policy)
    if result.errors or result.code is None:
        raise ScriptRejected("; ".join(result.errors) or "invalid script", _first_line(result.errors))
    return result.code


class _Deadline:
    """Arms the per-thread deadline `_tick` checks; nested evaluations keep the outer one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._outer = False

    def __enter__(self) -> None:
        self._outer = getattr(_deadline, "at", None) is None
        if self._outer:
            _deadline.at = time.monotonic() + self.seconds
            _deadline.seconds = self.seconds

    def __exit__(self, *exc: object) -> None:
        if self._outer:
            _deadline.at = None


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates in the sandbox with the given helpers."""

    def __init__(self, helpers: Mapping[str, Any], limits: SandboxLimits | None = None) -> None:
        super().__init__({})
        self.helpers = dict(helpers)
        self.limits = limits or SandboxLimits()
        self._base_globals = {**_GUARDS, **self.helpers}
        self._hidden = frozenset(self._base_globals)
        self.service_handler: Callable[..., str] | None = None

    def _globals_for(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        clash = set(self.helpers).intersection(context)
        if clash:
            raise ValueError(
                f"task data overwrites helper function(s): {sorted(clash)}; rename the variable(s)"
            )
        scope = dict(context)
        if external:
            scope.update(external)
        scope.update(self._base_globals)
        return scope

    def evaluate(self, expression: str, context: Any, external_context: Any = None) -> Any:
        code = compile_expression(expression)
        scope = self._globals_for(context, external_context)
        with _Deadline(self.limits.time_limit_seconds):
            return eval(code, scope)  # sandboxed: RestrictedPython code + guarded globals

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        code = compile_script(script)
        scope = self._globals_for(context, external_context)
        before = set(scope)
        with _Deadline(self.limits.time_limit_seconds):
            exec(code, scope)  # sandboxed: RestrictedPython code + guarded globals
        hidden = self._hidden.union(external_context) if external_context else self._hidden
        for key in before - scope.keys():
            context.pop(key, None)  # `del x` in the script removes the variable
        left = [
            (key, value)
            for key, value in scope.items()
            if not (key in hidden or key.startswith("_") or callable(value) or isinstance(value, ModuleType))
        ]
        if all_surely_storable([value for _key, value in left]):
            context.update(left)
            return True
        for key, value in left:  # the one by one check and update, up to the first unstorable value
            try:
                check_storable(value, key)
            except UnstorableValue as err:  # fails the script task, naming the variable
                raise UnstorableValue(f"the script left a value the case cannot store: {err}") from None
            context[key] = value
        return True

    def call_service(self, context: Any, **kwargs: Any) -> str:
        if self.service_handler is None:
            raise RuntimeError("service tasks are not available here")
        return self.service_handler(context, **kwargs)


def check_expression(expression: str) -> None:
    """Raise `ScriptRejected` if the expression would not run in the sandbox."""
    compile_expression(expression)


def check_script(script: str) -> None:
    """Raise `ScriptRejected` if the script would not run in the sandbox."""
    compile_script(script)
