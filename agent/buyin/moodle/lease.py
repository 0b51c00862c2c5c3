"""A programme's lease in Moodle: one agent at a time per programme, site-wide, fenced.

Two agents with different state files against one programme would each send every
message again, and so would a copy of one agent's state (a copied folder, an old
backup restored). Each run takes the programme's lease in Moodle with a new token
and the token its state's last granted run got; while the lease runs, Moodle grants
it only to the caller whose expected token is the lease's current one. The state
keeps the new token only once Moodle granted it, so a copy, whose last token is an
older one, is refused (exit 3) until the lease expires or `buyin release-lease
--force` removes it.

Where it lives:

- local_buyin 0.4.0: ``local_buyin_acquire_lease`` (token, expected) and
  ``local_buyin_release_lease`` (force), read-modify-write under a Moodle lock.
- Core Moodle: a preference of the agent's own user that core web services can keep
  (``core_user_get_user_preferences`` / ``core_user_update_user_preferences``, both
  added to the agent's service). Moodle keeps only preferences a component defines;
  the free-text one a user may set for themselves is block_myoverview's
  custom-field grouping value, which the agent's account never uses on its
  dashboard. One JSON object holds every programme's lease. Without a lock: the
  agent reads, writes, then reads back; two agents starting within the same
  fraction of a second could both believe they hold it (the plugin's lock has no
  such window).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from buyin.errors import InvalidParameterError
from buyin.moodle.client import MoodleClient

ACQUIRE = "local_buyin_acquire_lease"
RELEASE = "local_buyin_release_lease"
GET_PREFERENCES = "core_user_get_user_preferences"
SET_PREFERENCES = "core_user_update_user_preferences"
#: the preference that holds the core path's leases (PARAM_RAW, the user's own)
PREFERENCE = "block_myoverview_user_grouping_customfieldvalue_preference"
#: the key of the leases inside it
LEASES_KEY = "moodle-buyin leases"
#: how long a lease lasts from its last renewal: a holder that stops frees it then
LEASE_SECONDS = 2 * 86400


@dataclass(frozen=True)
class Lease:
    acquired: bool
    holder: str
    expires: int


class LeaseStore(Protocol):
    """Where a site keeps leases (the plugin's table, or a core preference)."""

    #: how the explanation names it
    where: str

    def acquire(self, programme: str, holder: str, token: str, expected: str) -> Lease: ...

    def release(self, programme: str, holder: str, force: bool) -> bool: ...


def offers_leases(functions: frozenset[str]) -> bool:
    return ACQUIRE in functions and RELEASE in functions


def offers_preference_leases(functions: frozenset[str]) -> bool:
    return GET_PREFERENCES in functions and SET_PREFERENCES in functions


def lease_store(client: MoodleClient, functions: frozenset[str], now: int) -> LeaseStore | None:
    """The site's lease store: local_buyin's where installed, else the preference where
    the service has both functions, else none."""
    if offers_leases(functions):
        return PluginLeases(client)
    if offers_preference_leases(functions):
        return PreferenceLeases(client, now)
    return None


class PluginLeases:
    where = "local_buyin"

    def __init__(self, client: MoodleClient) -> None:
        self.client = client

    def acquire(self, programme: str, holder: str, token: str, expected: str) -> Lease:
        try:
            answer = self.client.call(
                ACQUIRE,
                programme=programme,
                holder=holder,
                seconds=LEASE_SECONDS,
                token=token,
                expected=expected,
            )
        except InvalidParameterError:
            # local_buyin before 0.4.0 knows no token: the lease by name, without fencing
            answer = self.client.call(
                ACQUIRE, programme=programme, holder=holder, seconds=LEASE_SECONDS
            )
        return Lease(bool(answer["acquired"]), str(answer["holder"]), int(answer["timeexpires"]))

    def release(self, programme: str, holder: str, force: bool) -> bool:
        answer = self.client.call(RELEASE, programme=programme, holder=holder, force=int(force))
        return bool(answer["released"])


def _expires(lease: dict[str, Any]) -> int:
    try:
        return int(lease.get("expires", 0))
    except (TypeError, ValueError):
        return 0  # a value nobody can read: lapsed


class PreferenceLeases:
    where = "the agent's preferences"

    def __init__(self, client: MoodleClient, now: int) -> None:
        self.client = client
        self.now = now

    def _read(self) -> dict[str, dict[str, Any]]:
        answer = self.client.call(GET_PREFERENCES, name=PREFERENCE)
        for item in answer.get("preferences") or []:
            if item.get("name") == PREFERENCE and item.get("value"):
                try:
                    value = json.loads(str(item["value"]))
                except ValueError:
                    return {}  # the dashboard's own value: no lease in it
                leases = value.get(LEASES_KEY) if isinstance(value, dict) else None
                if isinstance(leases, dict):
                    return {k: v for k, v in leases.items() if isinstance(v, dict)}
        return {}

    def _write(self, leases: dict[str, dict[str, Any]]) -> None:
        value = json.dumps({LEASES_KEY: leases}, sort_keys=True, separators=(",", ":"))
        self.client.call(SET_PREFERENCES, preferences=[{"type": PREFERENCE, "value": value}])

    def acquire(self, programme: str, holder: str, token: str, expected: str) -> Lease:
        leases = self._read()
        held = leases.get(programme)
        running = held is not None and _expires(held) > self.now
        if held is not None and running and str(held.get("token", "")) != expected:
            return Lease(False, str(held.get("holder", "")), _expires(held))
        mine: dict[str, Any] = {
            "holder": holder,
            "token": token,
            "expires": self.now + LEASE_SECONDS,
        }
        leases[programme] = mine
        self._write(leases)
        kept = self._read().get(programme)  # read back: another agent may have written since
        if kept != mine:
            if kept is None:
                return Lease(False, "nobody (Moodle did not keep the lease)", 0)
            return Lease(False, str(kept.get("holder", "")), _expires(kept))
        return Lease(True, holder, _expires(mine))

    def release(self, programme: str, holder: str, force: bool) -> bool:
        leases = self._read()
        held = leases.get(programme)
        if held is None or (held.get("holder") != holder and not force):
            return False
        del leases[programme]
        self._write(leases)
        return True
