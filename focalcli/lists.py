"""Parsing of LIST options: ``0,0.5,1,2,5`` or ``START:STOP:STEP`` (STOP included)."""
from __future__ import annotations

import math
from decimal import Decimal, DecimalException, InvalidOperation

from .errors import OptionError

MAX_ITEMS = 10_000


def _decimal(text: str, option: str, item: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise OptionError(option, f"{item!r} is not a number or START:STOP:STEP") from None
    if not value.is_finite():
        raise OptionError(option, f"{item!r} is not a finite number")
    return value


def expand(item: str, option: str) -> list[float]:
    """One item: a number, or an inclusive range computed in decimal, so
    ``0:0.3:0.1`` gives 0.3 and never 0.30000000000000004."""
    parts = item.split(":")
    if len(parts) == 1:
        return [float(_decimal(parts[0], option, item))]
    if len(parts) != 3:
        raise OptionError(option, f"{item!r}: a range is START:STOP:STEP")
    start, stop, step = (_decimal(p, option, item) for p in parts)
    if step <= 0:
        raise OptionError(option, f"{item!r}: STEP must be > 0")
    if stop < start:
        raise OptionError(option, f"{item!r}: STOP is below START")
    try:
        # compared as a Decimal first: int() of 1e999999 alone takes a minute
        steps = (stop - start) / step
        if steps >= MAX_ITEMS:
            raise OptionError(option, f"{item!r} has more than {MAX_ITEMS} values")
        values = [start + i * step for i in range(int(steps) + 1)]
    except DecimalException:
        raise OptionError(option, f"{item!r}: numbers out of range") from None
    return [float(v) for v in values]


def parse_list(text: str, option: str, minimum: float | None = None) -> list[float]:
    """A comma list of numbers and ranges, in order, duplicates dropped."""
    values: list[float] = []
    for item in text.split(","):
        if not item.strip():
            raise OptionError(option, f"empty item in {text!r}")
        for v in expand(item, option):
            if not math.isfinite(v):
                raise OptionError(option, f"{item!r} is not a finite number")
            if minimum is not None and v < minimum:
                raise OptionError(option, f"{item.strip()!r} must be >= {minimum:g}")
            if v not in values:
                values.append(v)
    return values
