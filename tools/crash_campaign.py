"""Crash campaign (not a test): kill `buyin sync` at many points and count what went wrong.

    python tools/crash_campaign.py [--random 100] [--targeted 30] [--seed 15]
                                   [--signals 20] [--dropped] [--damage] [--copies]

The simulated site (core, and with local_buyin) is served over HTTP on loopback; each
point kills the first sync with SIGKILL, either right after Moodle applied one kind of
write (override, enrolment, role assignment, group, sign-off request, message batch;
before the answer left) or at a random moment, then syncs again once. What the site
holds is compared with an uninterrupted run. Prints one line per point that differs
and the totals: messages sent twice, lost, reworded, reruns not exiting 0, tracebacks.

``--signals N``: SIGINT at N random moments from the agent's start-up to its exit
(each must exit 130 with one line, and the rerun end as an uninterrupted run).
``--dropped``: each write Moodle acknowledges but drops (enrolment, override,
sign-off request) must be redone once by the next run. ``--damage``: every damage of
every field of every state table (tests/damage_harness.py), on both paths: exit 74
naming the record, or a clean run; never a traceback. ``--copies``: a state folder
copied beside the original, on both paths (local_buyin's lease, the core path's
preference): the copy is refused (exit 3) while the original holds the lease, the
original after the lease moves; no message sent twice. Exit 0 when every count is 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from buyin.simulator.faults import DROPPED
from crash_harness import (  # the harness lives beside the tests
    COPIED_WANT,
    VARIANTS,
    Agent,
    Holding,
    Outcome,
    Run,
    build_site,
    compare,
    copied_state,
    crash,
    holding,
    interrupt,
    random_points,
    signal_points,
    targeted_points,
    uninterrupted,
)
from damage_harness import damage_campaign

#: (variant, kind of write, the function whose call Moodle acknowledges and drops)
DROPPED_WRITES = (
    ("core", "enrolment", "enrol_manual_enrol_users"),
    ("core", "override", "core_completion_override_activity_completion_status"),
    ("plugin", "override", "local_buyin_complete_activities"),
    ("plugin", "signoff-request", "local_buyin_request_signoffs"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=100, help="random kill points")
    parser.add_argument("--targeted", type=int, default=30, help="kill points after a write")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--signals", type=int, default=0, help="SIGINT at random moments")
    parser.add_argument("--dropped", action="store_true", help="acknowledged, dropped writes")
    parser.add_argument("--damage", action="store_true", help="every state-field damage")
    parser.add_argument("--copies", action="store_true", help="a copied state, both paths")
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
        if args.signals:
            points = signal_points(runs, args.signals, args.seed)
            signalled = [
                interrupt(p, work / f"signal-{i}", now, reference[p.variant][0])
                for i, p in enumerate(points)
            ]
            for s in signalled:
                if not s.ok:
                    print(f"  signal {s.point}: exit {s.code} {s.error_lines} {s.diff}")
            print(
                f"signals: {len(signalled)} SIGINTs, {sum(s.delivered for s in signalled)} "
                f"delivered, exits {sorted({s.code for s in signalled})}, "
                f"{sum(s.code == 130 for s in signalled)} exits of 130, "
                f"{sum(s.ok for s in signalled)} one line and a rerun as uninterrupted",
                flush=True,
            )
            failed = failed or any(not s.ok for s in signalled)
        if args.dropped:
            for variant, write, function in DROPPED_WRITES:
                held = dropped_write(variant, function, work / f"dropped-{variant}-{write}", now)
                ok = held is not None and compare(held, reference[variant][0]).same
                print(f"dropped {variant} {write}: {'redone once' if ok else 'NOT redone'}")
                failed = failed or not ok
        if args.copies:
            for variant in VARIANTS:
                copied = copied_state(
                    variant, work / f"copied-{variant}", now, reference[variant][0]
                )
                print(
                    f"copied state {variant}: exits {copied.codes} (want {COPIED_WANT}); "
                    f"{copied.diff}; tracebacks {copied.tracebacks}",
                    flush=True,
                )
                failed = failed or not copied.ok
        if args.damage:
            for variant in VARIANTS:
                tally = damage_campaign(variant, work / f"damage-{variant}", every=True)
                print(tally.line(f"damage {variant}"), flush=True)
                for line in tally.failures[:20]:
                    print(f"  {line}")
                failed = failed or bool(tally.failures)
        print(f"{time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def dropped_write(variant: str, function: str, workdir: Path, now: int) -> Holding | None:
    """The first call of ``function`` acknowledged and dropped; what the site holds
    after the next two syncs (None if a run failed)."""
    site = build_site(variant, now)
    site.faults.queue(function, DROPPED)
    with Agent(site, workdir) as agent:
        if any(agent.sync().code != 0 for _ in range(3)):
            return None
        return holding(site, agent.server.url)


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
