"""Time and output-size limits for every Jinja2 template we render (instructions, messages, letters).

Jinja's sandbox stops escapes, not work: ``{% for i in range(10000) %}{% for j in range(10000) %}``
or ``{{ 'x' * 10**9 }}`` are legal templates. This environment checks a per-thread deadline on
every call, every ``range`` step and every output chunk, bounds ``*`` and ``**``, and stops when
the output passes its size limit. The hard limit for code from a diagram is still the supervised
step process (its wall-clock kill); this makes the common case fail fast and in-process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_TIME_LIMIT = 1.0
DEFAULT_MAX_CHARS = 100_000
MAX_RANGE = 100_000
MAX_OPERAND_BITS = 65_536
MAX_REPEAT = 1_000_000


class TemplateLimitExceeded(Exception):
    """A template ran past its time limit or produced too much output."""


_state = threading.local()


def tick() -> None:
    """Raise `TemplateLimitExceeded` once the current rendering's deadline has passed."""
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimitExceeded(f"template exceeded its time limit of {_state.seconds:g} s")


def _ticking_range(*args: int) -> Iterator[int]:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateLimitExceeded(f"range longer than {MAX_RANGE:,}")
    for value in values:
        tick()
        yield value


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with deadline checks and bounded ``*`` / ``**``."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _ticking_range

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        tick()
        if operator == "**":
            ints = isinstance(right, int) and isinstance(left, int) and abs(left) > 1
            if ints and (right > 10_000 or left.bit_length() * max(right, 0) > MAX_OPERAND_BITS):
                raise TemplateLimitExceeded("power result too large")
            return left**right
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and left.bit_length() + right.bit_length() > MAX_OPERAND_BITS:
            raise TemplateLimitExceeded("product too large")
        for count, seq in ((left, right), (right, left)):
            sequence = isinstance(seq, (str, list, tuple))
            if isinstance(count, int) and sequence and count * len(seq) > MAX_REPEAT:
                raise TemplateLimitExceeded(f"repetition longer than {MAX_REPEAT:,}")
        return left * right

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        tick()
        return super().call(__context, __obj, *args, **kwargs)


def render_with_limits(
    template: Template,
    context: Mapping[str, Any],
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """Render `template` (from a `LimitedEnvironment`) within the time and output limits."""
    outer = getattr(_state, "deadline", None)
    if outer is None:
        _state.deadline = time.monotonic() + time_limit
        _state.seconds = time_limit
    try:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(dict(context)):
            size += len(chunk)
            if size > max_chars:
                raise TemplateLimitExceeded(f"template output longer than {max_chars:,} characters")
            tick()
            parts.append(chunk)
        return "".join(parts)
    finally:
        if outer is None:
            _state.deadline = None


_instructions_env = LimitedEnvironment(autoescape=False)


def render_limited(
    source: str,
    context: Mapping[str, Any],
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """Render template source text (e.g. a task's instructions) within the limits."""
    return render_with_limits(_compiled(source), context, time_limit, max_chars)


_cache: dict[str, Template] = {}


def _compiled(source: str) -> Template:
    template = _cache.get(source)
    if template is None:
        if len(_cache) > 512:
            _cache.clear()
        template = _cache[source] = _instructions_env.from_string(source)
    return template
