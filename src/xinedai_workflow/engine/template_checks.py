"""Templates proved at deploy: each compiles, and uses only names its render contexts can hold.

A diagram renders a template with ``render_template("name", context)`` in a script. The names a
template may use are the keys of the contexts it is rendered with, found in the scripts that
render it: a dict literal, a helper that declares its keys (``message_context`` …), ``dict(x)``,
``{**x, ...}`` and ``x["key"] = ...`` on the way. A template whose every call site resolves is
checked: an unguarded name no context holds is refused with file, line and name (names used only
under ``is defined`` or ``| default`` are optional by design). A call site that cannot be resolved
statically leaves that template to the process tests, which render it for real.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .problems import Problem
from .xmlsafe import parse_untrusted_xml

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
TEMPLATE_DIR = "templates/"
_SUFFIXES = ("", ".j2", ".txt.j2", ".md.j2")
_GUARDS = frozenset({"defined", "undefined"})
Unknown = None  # a context whose keys cannot be known statically


def _scripts(files: Mapping[str, bytes]) -> Iterable[tuple[str, str]]:
    """(bpmn file, script text) of every script, pre- and post-script."""
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        tree, _problems = parse_untrusted_xml(files[name], name)
        if tree is None:
            continue
        for tag in (f"{BPMN}script", f"{SPIFF}preScript", f"{SPIFF}postScript"):
            for node in tree.getroot().iter(tag):
                if node.text and node.text.strip():
                    yield name, node.text


def _resolve_template(name: str, available: Iterable[str]) -> str | None:
    names = set(available)
    for suffix in _SUFFIXES:
        if TEMPLATE_DIR + name + suffix in names:
            return TEMPLATE_DIR + name + suffix
    return None


class _Contexts(ast.NodeVisitor):
    """Walks one script in order, tracking the keys each dict-valued name holds."""

    def __init__(self, helper_keys: Mapping[str, frozenset[str]]) -> None:
        self.helper_keys = helper_keys
        self.keys: dict[str, frozenset[str] | None] = {}
        self.renders: list[tuple[str, frozenset[str] | None]] = []

    def keys_of(self, node: ast.AST) -> frozenset[str] | None:
        if isinstance(node, ast.Dict):
            found: set[str] = set()
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:  # {**other}
                    inner = self.keys_of(value)
                    if inner is None:
                        return Unknown
                    found |= inner
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
                else:
                    return Unknown
            return frozenset(found)
        if isinstance(node, ast.Name):
            return self.keys.get(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in self.helper_keys:
                return self.helper_keys[node.func.id]
            if node.func.id == "dict" and len(node.args) <= 1:
                base = self.keys_of(node.args[0]) if node.args else frozenset()
                if base is None or any(k.arg is None for k in node.keywords):
                    return Unknown
                return base | {k.arg for k in node.keywords if k.arg}
        return Unknown

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        value = self.keys_of(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.keys[target.id] = value
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                current = self.keys.get(target.value.id)
                key = target.slice
                if current is not None and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self.keys[target.value.id] = current | {key.value}
                else:
                    self.keys[target.value.id] = Unknown

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr == "update":
            self.keys[func.value.id] = Unknown  # x.update(...): keys no longer known
        if not (isinstance(func, ast.Name) and func.id == "render_template" and len(node.args) >= 2):
            return
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            self.renders.append((first.value, self.keys_of(node.args[1])))
        else:
            self.renders.append(("", Unknown))  # a computed template name: any template


def render_sites(
    files: Mapping[str, bytes], helper_keys: Mapping[str, frozenset[str]]
) -> dict[str, list[frozenset[str] | None]]:
    """Template file → the context keys of each call site that renders it (None: unknown)."""
    sites: dict[str, list[frozenset[str] | None]] = {}
    for _file, source in _scripts(files):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # reported by the script checks
        walker = _Contexts(helper_keys)
        walker.visit(tree)
        for name, keys in walker.renders:
            if not name:
                for template in files:
                    if template.startswith(TEMPLATE_DIR) and template.endswith(".j2"):
                        sites.setdefault(template, []).append(Unknown)
                continue
            resolved = _resolve_template(name, files)
            if resolved is not None:
                sites.setdefault(resolved, []).append(keys)
    return sites


def _unguarded_names(ast_root: nodes.Template) -> dict[str, int]:
    """Names the template reads without `is defined` / `| default`, with their first line."""
    guarded: set[int] = set()
    for node in ast_root.find_all((nodes.Test, nodes.Filter)):
        if isinstance(node.node, nodes.Name) and (
            (isinstance(node, nodes.Test) and node.name in _GUARDS)
            or (isinstance(node, nodes.Filter) and node.name in ("default", "d"))
        ):
            guarded.add(id(node.node))
    for branch in ast_root.find_all(nodes.If):  # {% if x is defined %} ... {{ x }} ... {% endif %}
        tested = {
            t.node.name
            for t in [branch.test, *branch.test.find_all(nodes.Test)]
            if isinstance(t, nodes.Test)
            if t.name in _GUARDS and isinstance(t.node, nodes.Name)
        }
        guarded.update(id(n) for n in branch.find_all(nodes.Name) if n.name in tested)
    assigned = {n.name for n in ast_root.find_all(nodes.Name) if n.ctx in ("store", "param")}
    lines: dict[str, int] = {}
    for name in ast_root.find_all(nodes.Name):
        if name.ctx != "load" or name.name in assigned:
            continue
        if id(name) not in guarded and name.name not in lines:
            lines[name.name] = name.lineno
    return lines


def template_problems(
    files: Mapping[str, bytes],
    helper_keys: Mapping[str, frozenset[str]],
    environment: ImmutableSandboxedEnvironment,
) -> list[Problem]:
    """Syntax errors of every template, and names no render context of it can hold."""
    problems: list[Problem] = []
    sites = render_sites(files, helper_keys)
    for name in sorted(n for n in files if n.endswith(".j2")):
        try:
            source = files[name].decode("utf-8")
        except UnicodeDecodeError:
            continue  # reported by the template lint
        try:
            parsed = environment.parse(source)
        except TemplateSyntaxError as err:
            problems.append(
                Problem(
                    name, err.lineno, None, f"template syntax error: {err.message}; fix the Jinja2 markup"
                )
            )
            continue
        contexts = sites.get(name)
        if not contexts or any(keys is None for keys in contexts):
            continue  # not rendered by a diagram script, or a context not known statically
        possible: set[str] = set()
        for keys in contexts:
            possible |= keys or frozenset()
        declared = meta.find_undeclared_variables(parsed) - set(environment.globals)
        lines = _unguarded_names(parsed)
        for variable in sorted(declared - possible):
            if variable not in lines:
                continue
            problems.append(
                Problem(
                    name,
                    lines[variable],
                    None,
                    f"template uses {variable!r}, which no context it is rendered with holds "
                    f"(available: {', '.join(sorted(possible))}); use one of those names, or write "
                    f"{{{{ {variable} | default('') }}}} if it is optional",
                )
            )
    return problems


def template_check(
    helper_keys: Mapping[str, frozenset[str]], environment: Callable[[], ImmutableSandboxedEnvironment]
) -> Callable[[Mapping[str, bytes]], list[Problem]]:
    """The deploy-time asset check of a bundle's templates."""
    env = environment()

    def check(files: Mapping[str, bytes]) -> list[Problem]:
        return template_problems(files, helper_keys, env)

    return check
