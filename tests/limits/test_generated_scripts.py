"""The class, not the instances: generated straight-line arithmetic and string-building scripts.

Whatever a script does, its step ends within the step limit + 1 s, and the step process stays
under its memory cap (its peak RSS, as the kernel reports it, is below the RLIMIT_AS cap).
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinedai_workflow.engine import StepSupervisor

from .conftest import MEMORY_MB, NOW, STEP_LIMIT, definition_for

NUMBER = st.sampled_from(["2", "7", "10", "99", "4096", "65536", "10**9", "x", "y", "len(s)"])
TEXT = st.sampled_from(["'a'", "'%s'", "'{}'", "s", "t", "str(x)", "'0' * 1000"])
LINES = st.one_of(
    st.builds(lambda a, b: f"x = {a} * {b}", NUMBER, NUMBER),
    st.builds(lambda a, b: f"x = {a} ** {b}", NUMBER, st.sampled_from(["2", "3", "9", "64", "x"])),
    st.builds(lambda a, b: f"x = {a} << {b}", NUMBER, st.sampled_from(["1", "64", "4000"])),
    st.builds(lambda a: f"y = x * x + {a}", NUMBER),
    st.builds(lambda a, b: f"s = {a} + {b}", TEXT, TEXT),
    st.builds(lambda a, n: f"s = {a} * {n}", TEXT, NUMBER),
    st.builds(lambda a, b: f"t = {a}.replace('a', {b})", TEXT, TEXT),
    st.builds(lambda a, b: f"t = {a}.join([{b}] * 3)", TEXT, TEXT),
    st.builds(lambda a, n: f"s = '%0{{}}d'.format({n}) % 1 if False else '%s' % {a}", TEXT, NUMBER),
    st.builds(lambda a: f"s = f'{{{a}}}{{{a}}}'", TEXT),
    st.builds(lambda a: f"s = '{{}}{{}}'.format({a}, {a})", TEXT),
    st.builds(lambda n: f"d = int(Decimal('1e{n}'))", st.sampled_from(["3", "300", "30000", "300000"])),
    st.builds(lambda n: f"y = str(x)[:{n}]", st.sampled_from(["10", "1000"])),
)
PRELUDE = "x = 3\ny = 5\ns = 'ab'\nt = 'cd'\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINES, min_size=1, max_size=25))
def test_any_straight_line_script_ends_in_time_and_memory(
    supervisor: StepSupervisor, lines: list[str]
) -> None:
    script = PRELUDE + "\n".join(lines) + "\ns = ''\nt = ''\nx = 0\ny = 0\nd = 0\n"
    began = time.monotonic()
    instance = supervisor.start(definition_for(script), {}, NOW)
    snapshot = instance.snapshot()
    took = time.monotonic() - began
    # the kill comes at STEP_LIMIT; the slack covers replacing the killed process on a loaded machine
    assert took < STEP_LIMIT + 3.0, script
    assert snapshot.status in ("active", "error")
    if snapshot.status == "error":
        assert snapshot.error is not None and snapshot.error.message
    # the step process reports its peak RSS with every finished step
    assert instance.max_rss_kb < MEMORY_MB * 1024, (instance.max_rss_kb, script)
