"""Finding 1 and 2 (and the class): limits enforced from outside the code being limited.

Steps run in a step process with an address-space cap and a wall-clock kill: a C call that never
returns or allocates without bound is stopped, the step rolled back, the case set to error with
the element, and the next step works (a fresh process).
"""

from __future__ import annotations

import time

import pytest

from xinedai_workflow.engine import StepSupervisor

from .conftest import MEMORY_MB, NOW, STEP_LIMIT, definition_for


def run(supervisor: StepSupervisor, script: str, variables: dict | None = None):  # type: ignore[no-untyped-def]
    began = time.monotonic()
    instance = supervisor.start(definition_for(script), variables or {}, NOW)
    return instance, instance.snapshot(), time.monotonic() - began


def test_an_ordinary_script_runs_and_the_case_waits(supervisor: StepSupervisor) -> None:
    instance, snapshot, _ = run(supervisor, "total = money('10.50') + money('2')\nlabel = f'{total}'")
    assert snapshot.status == "active", snapshot.error
    assert snapshot.variables["label"] == "12.50"
    assert [t.element_id for t in snapshot.open_tasks] == ["look"]
    assert instance.rolled_back is False


def test_a_c_call_that_never_returns_is_killed_at_the_step_limit(supervisor: StepSupervisor) -> None:
    instance, snapshot, took = run(supervisor, "x = 1\nc_sleep(3600)\ny = 2")
    assert took < STEP_LIMIT + 1.0
    assert snapshot.status == "error"
    assert snapshot.error is not None and "time limit" in snapshot.error.message
    assert snapshot.error.element_id == "run"  # the element the process was running when killed
    assert instance.rolled_back and snapshot.open_tasks == []
    # the pool goes on with a fresh process
    _, after, _ = run(supervisor, "z = 3")
    assert after.status == "active"


def test_one_huge_allocation_hits_the_memory_cap_not_the_service(supervisor: StepSupervisor) -> None:
    _, snapshot, took = run(supervisor, f"blob = c_alloc({(MEMORY_MB + 256) * 1024 * 1024})")
    assert snapshot.status == "error"
    assert snapshot.error is not None and "memory" in snapshot.error.message.lower()
    assert took < STEP_LIMIT + 1.0
    _, after, _ = run(supervisor, "z = 3")
    assert after.status == "active"


def test_a_process_that_dies_fails_only_its_step(supervisor: StepSupervisor) -> None:
    _, snapshot, _ = run(supervisor, "c_exit(3)")
    assert snapshot.status == "error"
    assert snapshot.error is not None and "exit code 3" in snapshot.error.message
    _, after, _ = run(supervisor, "z = 3")
    assert after.status == "active"


@pytest.mark.parametrize(
    "script",
    [
        "x = 7\n" + "x = x * x\n" * 30,  # finding 1: straight-line squaring
        "from_decimal = int(Decimal('1e300000'))",  # one long C call
        "s = '%*d' % (10**9, 1)",  # finding 2: one formatting call
        "s = '%0999999999d' % 1",
        "s = 'ab' * 1000\n" + "s = s.replace('a', s)\n" * 5,
        "s = 'x' * 100000\n" + "s = ','.join([s] * 20)\n" * 5,
        "s = '{:>999999999}'.format(1)",
        "s = 'ab'\n" + "s = s + s\n" * 40,
        "s = 'ab'\n" + "s = f'{s}{s}'\n" * 40,
        "a = [1]\n" + "a.extend(a)\n" * 40,
        "x = 3\n" + "x = x << 4000\n" * 40,
        "s = sum([[1] * 1000] * 1000, [])",
    ],
)
def test_straight_line_growth_fails_fast_in_process(supervisor: StepSupervisor, script: str) -> None:
    _, snapshot, took = run(supervisor, script)
    assert snapshot.status == "error", script
    assert snapshot.error is not None and snapshot.error.element_id == "run"
    # the cheap guards stop it, not the kill: the failure mode is the wall-clock kill (the step is
    # "rolled back") or no end at all, so the bound is generous (loaded machine, -n 2)
    assert "rolled back" not in snapshot.error.message, snapshot.error.message
    assert took < 10.0


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("e = ValueError('boom')", "ValueError"),
        ("b = 'x'.encode()", "bytes"),
        ("c = complex(1, 2) if False else 1j", "complex"),
        ("g = (i for i in [1, 2])", "generator"),
        ("d = {(1, 2): 3}", "key of type tuple"),
        ("n = 10 ** 5000", "digits"),
        ("s = '\\ud800'", "Unicode"),
        ("f = float('nan')", "nan"),
        ("deep = []\nfor i in range(5000):\n    deep = [deep]", "deeper"),
    ],
)
def test_values_the_state_cannot_store_fail_the_step_clearly(
    supervisor: StepSupervisor, script: str, words: str
) -> None:
    """Finding 5: the step fails with a message naming the value, never a 500 later."""
    _, snapshot, _ = run(supervisor, script)
    assert snapshot.status == "error", script
    assert snapshot.error is not None and words.lower() in snapshot.error.message.lower(), snapshot.error


def test_instructions_are_rendered_in_a_step_process_within_limits(supervisor: StepSupervisor) -> None:
    assert supervisor.render("Hello {{ name }}", {"name": "王"}) == "Hello 王"
    began = time.monotonic()
    for source in [
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "{{ 10 ** 5000 }}",
        "{{ 'x' * 10 ** 9 }}",
        "{{ 1 // 0 }}",
        "{% for i in range(200000) %}x{% endfor %}",
    ]:
        with pytest.raises(ValueError):
            supervisor.render(source, {})
    assert time.monotonic() - began < 5 * (supervisor.limits.render_time_limit_seconds + 1.0)
