"""Crash campaign (not a test): kill `buyin sync` at many points and count what went wrong.

    python tools/crash_campaign.py [--random 100] [--targeted 30] [--seed 15]

The simulated site (core, and with local_buyin) is served over HTTP on loopback; each
point kills the first sync with SIGKILL, either right after Moodle applied one kind of
write (override, enrolment, role assignment, group, sign-off request, message batch;
before the answer left) or at a random moment, then syncs again once. What the site
holds is compared with an uninterrupted run. Prints one line per point that differs
and the totals: messages sent twice, lost, reworded, reruns not exiting 0, tracebacks.
Exit 0 when every count is 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from crash_harness import (  # the harness lives beside the tests
    VARIANTS,
    Holding,
    Outcome,
    Run,
    crash,
    random_points,
    targeted_points,
    uninterrupted,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=100, help="random kill points")
    parser.add_argument("--targeted", type=int, default=30, help="kill points after a write")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="buyin-crash-") as tmp:
        work = Path(tmp)
        reference: dict[str, tuple[Holding, Run]] = {
            v: uninterrupted(v, work / f"reference-{v}", now) for v in VARIANTS
        }
        runs = {v: run for v, (_held, run) in reference.items()}
        groups = {
            "random": random_points(runs, args.random, args.seed),
            "targeted": targeted_points(runs, args.targeted),
        }
        started = time.monotonic()
        failed = False
        for name, points in groups.items():
            outcomes: list[Outcome] = []
            for i, point in enumerate(points):
                outcome = crash(point, work / f"{name}-{i}", now, reference[point.variant][0])
                outcomes.append(outcome)
                if not outcome.ok:
                    print(
                        f"  {name} {point}: killed={outcome.killed} reruns={outcome.reruns} "
                        f"{outcome.diff}",
                        flush=True,
                    )
            print(summary(name, outcomes), flush=True)
            failed = failed or any(not o.ok for o in outcomes)
        print(f"{time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def summary(name: str, outcomes: list[Outcome]) -> str:
    total = len(outcomes)
    return (
        f"{name}: {total} points, {sum(o.killed for o in outcomes)} killed mid-run, "
        f"{sum(o.diff.same for o in outcomes)} identical to the uninterrupted run; "
        f"messages sent twice {sum(o.diff.twice for o in outcomes)}, "
        f"lost {sum(o.diff.lost for o in outcomes)}, "
        f"reworded {sum(o.diff.reworded for o in outcomes)}, "
        f"extra {sum(o.diff.extra for o in outcomes)}; "
        f"other differences {sum(bool(o.diff.rest) for o in outcomes)}; "
        f"reruns not exiting 0 {sum(o.reruns[-1] != 0 for o in outcomes)}; "
        f"tracebacks {sum(o.tracebacks for o in outcomes)}"
    )


if __name__ == "__main__":
    sys.exit(main())
