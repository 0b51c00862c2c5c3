"""local_buyin's lease per programme: one agent at a time per programme, site-wide.

Two agents with different state files against one programme would each send every
message again; with local_buyin 0.3.0 installed (its lease functions in the service)
each run takes or renews the programme's lease in Moodle before anything else, and an
agent that another holds it from stops that programme (exit 3, like the local lock).
"""

from __future__ import annotations

from dataclasses import dataclass

from buyin.moodle.client import MoodleClient

ACQUIRE = "local_buyin_acquire_lease"
RELEASE = "local_buyin_release_lease"
#: how long a lease lasts from its last renewal: a holder that stops frees it then
LEASE_SECONDS = 2 * 86400
#: renewed by the first run this long after the last renewal (not every run: a call
#: saved), timed by the agent's own clock so a site clock that differs does not matter
RENEW_AFTER = 12 * 3600


@dataclass(frozen=True)
class Lease:
    acquired: bool
    holder: str
    expires: int


def offers_leases(functions: frozenset[str]) -> bool:
    return ACQUIRE in functions and RELEASE in functions


def acquire_lease(client: MoodleClient, programme: str, holder: str) -> Lease:
    answer = client.call(ACQUIRE, programme=programme, holder=holder, seconds=LEASE_SECONDS)
    return Lease(bool(answer["acquired"]), str(answer["holder"]), int(answer["timeexpires"]))


def release_lease(client: MoodleClient, programme: str, holder: str) -> bool:
    return bool(client.call(RELEASE, programme=programme, holder=holder)["released"])
