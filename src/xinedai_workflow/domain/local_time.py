"""Wall-clock arithmetic in a borrower's own time zone, exact across DST gaps and folds."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "LocalClock",
    "is_known_timezone",
    "to_utc",
    "zone",
]

# tzdata transitions are months apart; a 6 h probe step cannot step over two of them.
_PROBE_STEP = timedelta(hours=6)


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError when tzdata does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_known_timezone(name: str) -> bool:
    """True when `name` is an IANA zone name tzdata knows."""
    try:
        zone(name)
    except ValueError:
        return False
    return True


def to_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime; ValueError for a naive one."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} (an aware datetime is required)")
    return moment.astimezone(UTC)


class LocalClock:
    """Maps UTC instants to one zone's wall clock and finds the instants a wall time occurs."""

    def __init__(self, tz: ZoneInfo, span: tuple[datetime, datetime] | None = None) -> None:
        """`span`: the UTC interval most queries fall in; its offset changes are found once."""
        self.tz = tz
        self._span = span
        self._span_changes: list[datetime] | None = None

    @property
    def name(self) -> str:
        """The IANA name of the zone."""
        return self.tz.key

    def local(self, instant: datetime) -> datetime:
        """The aware local datetime of a UTC instant."""
        return instant.astimezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        """The calendar date the borrower sees at `instant`."""
        return instant.astimezone(self.tz).date()

    def local_time(self, instant: datetime) -> time:
        """The wall-clock time the borrower sees at `instant`."""
        return instant.astimezone(self.tz).time()

    def wall_instants(self, day: date, wall: time) -> list[datetime]:
        """UTC instants at which the local clock shows `day` `wall`: none (gap), one, or two (fold)."""
        naive = datetime.combine(day, wall)
        found: list[datetime] = []
        for fold in (0, 1):
            instant = naive.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)
            back = instant.astimezone(self.tz).replace(tzinfo=None, fold=0)
            if back == naive and instant not in found:
                found.append(instant)
        return sorted(found)

    def offset_changes(self, start: datetime, end: datetime) -> list[datetime]:
        """UTC instants in (start, end] at which the zone's UTC offset changes."""
        if self._span is not None and self._span[0] <= start and end <= self._span[1]:
            if self._span_changes is None:
                self._span_changes = self._scan(*self._span)
            return [c for c in self._span_changes if start < c <= end]
        return self._scan(start, end)

    def _scan(self, start: datetime, end: datetime) -> list[datetime]:
        changes: list[datetime] = []
        lo = start
        lo_offset = lo.astimezone(self.tz).utcoffset()
        while lo < end:
            hi = min(lo + _PROBE_STEP, end)
            hi_offset = hi.astimezone(self.tz).utcoffset()
            if hi_offset != lo_offset:
                changes.append(self._bisect_change(lo, hi, hi_offset))
            lo, lo_offset = hi, hi_offset
        return changes

    def _bisect_change(self, lo: datetime, hi: datetime, new_offset: timedelta | None) -> datetime:
        """First whole second in (lo, hi] already on `new_offset` (tzdata changes on whole seconds)."""
        lo_s = math.floor(lo.timestamp())
        hi_s = math.ceil(hi.timestamp())
        while hi_s - lo_s > 1:
            mid = (lo_s + hi_s) // 2
            if datetime.fromtimestamp(mid, UTC).astimezone(self.tz).utcoffset() == new_offset:
                hi_s = mid
            else:
                lo_s = mid
        change = datetime.fromtimestamp(hi_s, UTC)
        return max(change, lo + timedelta(microseconds=1))

    def boundaries(self, start: datetime, end: datetime, walls: tuple[time, ...]) -> list[datetime]:
        """Sorted instants in (start, end] where the clock reaches one of `walls` or jumps.

        Any property of the wall clock that only changes when the clock passes one of `walls`
        is constant between two consecutive boundaries, so the earliest instant with the
        property is `start` itself or one of these.
        """
        first = self.local_date(start) - timedelta(days=1)
        last = self.local_date(end) + timedelta(days=1)
        found = set(self.offset_changes(start, end))
        day = first
        while day <= last:
            for wall in walls:
                found.update(i for i in self.wall_instants(day, wall) if start < i <= end)
            day += timedelta(days=1)
        return sorted(found)
