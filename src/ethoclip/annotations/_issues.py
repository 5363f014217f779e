"""Problems found in user input, collected (never raised one at a time) and reported together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem: where it is, the offending value, what is wrong and how to fix it."""

    severity: Severity
    file: Path
    where: str  # e.g. "metadata 1_m0EEga9B" or "file 3 (020500.mp4)"
    message: str
    value: str = ""
    fix: str = ""
    video: str = ""  # the video file name the problem concerns, when there is one

    def format(self) -> str:
        parts = [f"{self.severity}: {self.where}: {self.message}"]
        if self.value:
            parts[0] += f" (value: {self.value})"
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "file": str(self.file),
            "where": self.where,
            "message": self.message,
            "value": self.value,
            "fix": self.fix,
            "video": self.video,
        }


def errors(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def group_by_file(issues: Iterable[Issue]) -> dict[Path, list[Issue]]:
    grouped: dict[Path, list[Issue]] = {}
    for issue in issues:
        grouped.setdefault(issue.file, []).append(issue)
    return grouped


def format_report(issues: Iterable[Issue]) -> str:
    """Every issue, grouped under its file, errors first."""
    lines = []
    for file, items in group_by_file(issues).items():
        lines.append(str(file))
        for issue in sorted(items, key=lambda i: i.severity != "error"):
            lines.append(f"  {issue.format()}")
    return "\n".join(lines)
