"""Parse and validate a deployment bundle (.bpmn + .dmn + form .json + assets) into process specs.

Every problem is collected (not just the first) with file, line and element id. SpiffWorkflow
leaves line numbers empty and lets raw lxml errors through; this adapter fills them in from the
parsed trees.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from ..domain.form_patterns import check_form_patterns
from .problems import BundleInvalid, Problem
from .references import reference_problems
from .spec_checks import SpecChecker
from .test_files import is_test_file
from .xmlsafe import element_lines, parse_untrusted_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json", ".j2", ".yaml", ".yml", ".md", ".txt")
MAX_FILES = 200

AssetCheck = Callable[[Mapping[str, bytes]], list[Problem]]


@dataclass
class ParsedProcess:
    """One executable process of a bundle, ready to be stored as a version."""

    key: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    files: dict[str, bytes]
    sha256: str


@dataclass
class ParsedBundle:
    """The result of a successful validation."""

    main_key: str
    processes: dict[str, ParsedProcess]
    warnings: list[Problem] = field(default_factory=list)
    process_files: dict[str, str] = field(default_factory=dict)  # process key → its .bpmn file


def content_sha256(files: Mapping[str, bytes]) -> str:
    """A digest of a set of named files (order-independent)."""
    outer = hashlib.sha256()
    for name in sorted(files):
        outer.update(name.encode() + b"\0" + hashlib.sha256(files[name]).hexdigest().encode() + b"\n")
    return outer.hexdigest()


def check_file_name(name: str) -> str | None:
    """Why a bundle file name is refused, or None when it is fine."""
    if not name or len(name) > 200:
        return "file name must be 1 to 200 characters"
    if name.startswith("/") or "\\" in name or "\0" in name:
        return "file name must be a relative path with forward slashes"
    if posixpath.normpath(name) != name or name.startswith("..") or "/../" in name:
        return "file name must not contain '..' or redundant separators"
    if not name.endswith(ALLOWED_SUFFIXES):
        return f"unsupported file type; allowed: {', '.join(ALLOWED_SUFFIXES)}"
    return None


class _BundleParser:
    def __init__(
        self,
        files: Mapping[str, bytes],
        checker: SpecChecker,
        asset_checks: Sequence[AssetCheck],
    ) -> None:
        self.files = dict(files)
        self.checker = checker
        self.asset_checks = asset_checks
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.trees: dict[str, etree._ElementTree] = {}
        self.lines: dict[str, dict[str, int]] = {}
        self.forms: dict[str, Any] = {}
        self.parser = SpiffBpmnParser(validator=VALIDATOR)
        self.process_file: dict[str, str] = {}
        self.decision_file: dict[str, str] = {}
        # files with dangling references: SpiffWorkflow's own (misleading) errors on them are dropped
        self.broken_refs: set[str] = set()

    # -- locating problems --------------------------------------------------------------------
    def _line(self, file: str | None, element_id: str | None) -> int | None:
        if element_id:
            files = [file] if file else list(self.lines)
            for name in files:
                line = self.lines.get(name or "", {}).get(element_id)
                if line:
                    return line
        return None

    def _file_of(self, element_id: str | None) -> str | None:
        if element_id:
            for name, ids in self.lines.items():
                if element_id in ids:
                    return name
        return None

    def locate(self, element_id: str | None) -> tuple[str | None, int | None]:
        file = self._file_of(element_id)
        return file, self._line(file, element_id)

    def error(self, file: str | None, element_id: str | None, message: str, line: int | None = None) -> None:
        file = file or self._file_of(element_id)
        self.problems.append(Problem(file, line or self._line(file, element_id), element_id, message))

    def _from_spiff(self, err: SpiffWorkflowException, default_file: str | None = None) -> None:
        element_id = getattr(err, "id", None) or getattr(err, "task_id", None) or None
        file = getattr(err, "file_name", None) or default_file
        raw_line = getattr(err, "line_number", None)
        line = (
            int(raw_line)
            if isinstance(raw_line, int) or (isinstance(raw_line, str) and raw_line.isdigit())
            else None
        )
        message = str(err.args[0]) if err.args else str(err)
        self.error(file or None, element_id or None, message, line)

    # -- phases -------------------------------------------------------------------------------
    def read_files(self) -> None:
        if not self.files:
            self.error(None, None, "the bundle is empty")
        if len(self.files) > MAX_FILES:
            self.error(None, None, f"a bundle holds at most {MAX_FILES} files")
        for name, content in sorted(self.files.items()):
            why = check_file_name(name)
            if why:
                self.error(name, None, why)
                continue
            if name.endswith((".bpmn", ".dmn")):
                tree, problems = parse_untrusted_xml(content, name)
                self.problems.extend(problems)
                if tree is not None:
                    self.trees[name] = tree
                    self.lines[name] = element_lines(tree)
                    if name.endswith(".bpmn"):
                        found = reference_problems(name, tree)
                        if found:
                            self.problems.extend(found)
                            self.broken_refs.add(name)
            elif name.endswith(".json") and not is_test_file(name):
                self._read_json(name, content)

    def _read_json(self, name: str, content: bytes) -> None:
        try:
            schema = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            self.error(name, None, f"invalid JSON: {err}", getattr(err, "lineno", None))
            return
        if not isinstance(schema, dict):
            self.error(name, None, "a form file must hold a JSON Schema object")
            return
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as err:
            self.error(name, None, f"invalid JSON Schema: {err.message}")
            return
        problems = check_form_patterns(schema)
        for problem in problems:
            self.error(name, None, problem)
        if problems:
            return
        self.forms[name] = schema

    def add_to_spiff(self) -> None:
        for name, tree in self.trees.items():
            root = tree.getroot()
            try:
                if name.endswith(".dmn"):
                    if root.find("{*}decision") is None:
                        self.error(
                            name, None, "the DMN file holds no <decision>: add one or leave the file out"
                        )
                        continue
                    self.parser.add_dmn_xml(root, filename=name)
                    for decision in root.iter("{*}decision"):
                        self.decision_file[decision.get("id", "")] = name
                else:
                    self.parser.add_bpmn_xml(tree, filename=name)
                    for process in root.iter(f"{{{BPMN_NS}}}process"):
                        self.process_file[process.get("id", "")] = name
            except SpiffWorkflowException as err:
                if name not in self.broken_refs:
                    self._from_spiff(err, name)
            except (etree.LxmlError, AttributeError, IndexError, KeyError, ValueError, TypeError) as err:
                # SpiffWorkflow lets some raw errors through (e.g. two decisions in one DMN file)
                hint = " (one <decision> per DMN file)" if name.endswith(".dmn") else ""
                self.error(name, None, f"cannot parse: {err}{hint}")

    def build_processes(self) -> dict[str, ParsedProcess]:
        processes: dict[str, ParsedProcess] = {}
        keys = self.parser.get_process_ids()
        if not keys and not self.problems:
            self.error(None, None, "the bundle holds no executable bpmn:process")
        for key in keys:
            try:
                spec = self.parser.get_spec(key)
                subprocess_specs = self.parser.get_subprocess_specs(key)
            except SpiffWorkflowException as err:
                if self.process_file.get(key) not in self.broken_refs:
                    self._from_spiff(err, self.process_file.get(key))
                continue
            except (KeyError, AttributeError, TypeError, ValueError) as err:
                self.error(self.process_file.get(key), key, f"cannot build process: {err}")
                continue
            findings = self.checker.check([spec, *subprocess_specs.values()], self.forms, self.locate)
            self.problems.extend(findings.errors)
            self.warnings.extend(findings.warnings)
            closure = self._closure(key, spec, subprocess_specs)
            processes[key] = ParsedProcess(
                key=key,
                name=spec.description or key,
                spec=spec,
                subprocess_specs=subprocess_specs,
                files=closure,
                sha256=content_sha256(closure),
            )
        return processes

    def _closure(
        self, key: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> dict[str, bytes]:
        """The files this process needs: its diagrams, decisions, forms, and the shared assets."""
        wanted: set[str] = set()
        referenced_forms_anywhere = self.checker.referenced_files(self.parser_specs_all())
        for process_id in [key, *subprocess_specs]:
            if process_id in self.process_file:
                wanted.add(self.process_file[process_id])
        for ref in self._decision_refs({key, *subprocess_specs}):
            if ref in self.decision_file:
                wanted.add(self.decision_file[ref])
        wanted.update(self.checker.referenced_files([spec, *subprocess_specs.values()]))
        for name in self.files:
            if not name.endswith((".bpmn", ".dmn")) and name not in referenced_forms_anywhere:
                wanted.add(name)  # shared assets: templates, policy, unreferenced JSON
        return {name: self.files[name] for name in sorted(wanted) if name in self.files}

    def _decision_refs(self, process_ids: set[str]) -> set[str]:
        """Decision ids called by business rule tasks of these processes (read from the XML)."""
        refs: set[str] = set()
        for tree in self.trees.values():
            for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
                if process.get("id") not in process_ids:
                    continue
                for task in process.iter(f"{{{BPMN_NS}}}businessRuleTask"):
                    called = task.find(f".//{{{SPIFF_NS}}}calledDecisionId")
                    if called is not None and called.text:
                        refs.add(called.text.strip())
        return refs

    def parser_specs_all(self) -> list[BpmnProcessSpec]:
        specs = []
        for key in self.parser.get_process_ids():
            try:
                specs.append(self.parser.get_spec(key))
            except SpiffWorkflowException:
                continue
        return specs

    def main_key(self, processes: Mapping[str, ParsedProcess]) -> str | None:
        """The process no other process of the bundle calls (first by file and line)."""
        called: set[str] = set()
        for process in processes.values():
            called.update(k for k in process.subprocess_specs if k != process.key)
        ordered = sorted(processes, key=lambda k: (self.process_file.get(k, ""), self._line(None, k) or 0))
        roots = [k for k in ordered if k not in called]
        candidates = roots or ordered
        return candidates[0] if candidates else None


def parse_bundle(
    files: Mapping[str, bytes],
    checker: SpecChecker,
    asset_checks: Iterable[AssetCheck] = (),
) -> ParsedBundle:
    """Validate a bundle; return its processes or raise `BundleInvalid` with every problem found."""
    bundle = _BundleParser(files, checker, list(asset_checks))
    bundle.read_files()
    for check in bundle.asset_checks:
        bundle.problems.extend(check(bundle.files))
    bundle.add_to_spiff()
    processes = bundle.build_processes() if bundle.trees else {}
    main = bundle.main_key(processes)
    if bundle.problems or main is None:
        if not bundle.problems:
            bundle.error(None, None, "the bundle holds no executable bpmn:process")
        raise BundleInvalid(_dedupe(bundle.problems))
    return ParsedBundle(
        main_key=main,
        processes=processes,
        warnings=_dedupe(bundle.warnings),
        process_files=dict(bundle.process_file),
    )


def load_process_specs(
    key: str, files: Mapping[str, bytes]
) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Rebuild the specs of a stored, already validated version from its files."""
    parser = SpiffBpmnParser()
    for name in sorted(files):
        if name.endswith((".bpmn", ".dmn")):
            tree, problems = parse_untrusted_xml(files[name], name)
            if tree is None:
                raise BundleInvalid(problems)
            if name.endswith(".dmn"):
                parser.add_dmn_xml(tree.getroot(), filename=name)
            else:
                parser.add_bpmn_xml(tree, filename=name)
    return parser.get_spec(key), parser.get_subprocess_specs(key)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out
