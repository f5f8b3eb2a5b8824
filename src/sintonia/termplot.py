"""A loss curve drawn with text characters, for `sintonia models show`."""

from __future__ import annotations

from collections.abc import Sequence


def line_chart(
    values: Sequence[float], marks: Sequence[int] = (), *, width: int = 60, height: int = 10
) -> str:
    """Plot `values` left to right; `marks` are indexes flagged with "|" under the axis.

    Each column shows the mean of the values that fall into it, so long runs still fit.
    """
    if not values:
        return ""
    columns = min(width, len(values))
    buckets = [
        values[i * len(values) // columns : (i + 1) * len(values) // columns]
        for i in range(columns)
    ]
    means = [sum(b) / len(b) for b in buckets]
    top, bottom = max(means), min(means)
    span = (top - bottom) or 1.0
    rows = [round((top - m) / span * (height - 1)) for m in means]
    lines = []
    for r in range(height):
        label = top - span * r / (height - 1)
        cells = "".join("•" if row == r else " " for row in rows)
        lines.append(f"{label:9.4f} ┤{cells}")
    axis = [" "] * columns
    for mark in marks:
        axis[min(columns - 1, mark * columns // len(values))] = "|"
    lines.append(" " * 10 + "└" + "─" * columns)
    lines.append(" " * 11 + "".join(axis) + "  (| = epoch end)" if marks else "")
    return "\n".join(line for line in lines if line)
