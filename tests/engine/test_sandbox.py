"""The script sandbox: escapes fail, runaway scripts stop, ordinary scripts work."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from xinedai_workflow.engine.sandbox import (
    SandboxEnvironment,
    SandboxLimits,
    ScriptLimitExceeded,
    ScriptRejected,
    ScriptTimeout,
    check_script,
)
from xinedai_workflow.runtime.script_helpers import SCRIPT_HELPERS

ESCAPES = [
    "x = ().__class__.__base__.__subclasses__()",
    "import os",
    "from os import system",
    "__import__('os')",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('x = 1')",
    "getattr((), '__class__')",
    "x = [c for c in ().__class__.__mro__]",
    "type(1)",
    "globals()",
    "x = (lambda: 0).__globals__",
    "class A:\n    pass",
    "x = money.__module__",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_rejected_before_running(source: str) -> None:
    with pytest.raises(ScriptRejected):
        check_script(source)


def test_format_string_escape_fails_at_run_time() -> None:
    env = SandboxEnvironment(SCRIPT_HELPERS)
    with pytest.raises(NotImplementedError):
        env.execute("x = 'a{0.__class__}'.format(1)", {})


@pytest.mark.parametrize(
    "source",
    [
        "while True:\n    pass",
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
        "x = [1 for a in range(100000) for b in range(100000)]",
    ],
)
def test_runaway_scripts_stop_at_the_time_limit(source: str) -> None:
    env = SandboxEnvironment({}, SandboxLimits(time_limit_seconds=0.3))
    started = time.monotonic()
    with pytest.raises(ScriptTimeout):
        env.execute(source, {})
    assert time.monotonic() - started < 5.0  # a missed limit never ends; the width is for loaded CI


@pytest.mark.parametrize(
    "source", ["x = 2 ** 100000", "x = 'a' * 10**7", "x = list(range(10**8))", "x = 1 << 10**6"]
)
def test_unbounded_allocations_are_refused(source: str) -> None:
    env = SandboxEnvironment({})
    with pytest.raises(ScriptLimitExceeded):
        env.execute(source, {})


def test_ordinary_scripts_update_task_data() -> None:
    env = SandboxEnvironment(SCRIPT_HELPERS)
    data = {"amount": "100.50", "old": 1}
    env.execute(
        "total = money(amount) + Decimal('0.50')\n"
        "items = [i * 2 for i in range(3)]\ndel old\nlabel = 'x' * 3",
        data,
    )
    assert data == {"amount": "100.50", "total": Decimal("101.00"), "items": [0, 2, 4], "label": "xxx"}
    assert env.evaluate("total > 100 and len(items) == 3", data) is True


def test_task_data_may_not_shadow_helpers() -> None:
    env = SandboxEnvironment(SCRIPT_HELPERS)
    with pytest.raises(ValueError, match="helper"):
        env.evaluate("1", {"money": "12"})
