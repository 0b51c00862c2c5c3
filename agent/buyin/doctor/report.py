"""doctor's checklist: one line per check, and the exit code it makes."""

from __future__ import annotations

from dataclasses import dataclass, field

from buyin.errors import EXIT_CONFIG, EXIT_OK, BuyinError, exit_code_for


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    hint: str = ""


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    fatal: BuyinError | None = None

    def add(self, name: str, ok: bool, detail: str = "", hint: str = "") -> None:
        self.checks.append(Check(name, ok, detail, hint))

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return exit_code_for(self.fatal)
        return EXIT_OK if all(c.ok for c in self.checks) else EXIT_CONFIG
