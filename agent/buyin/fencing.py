"""Each run takes its programmes' leases in Moodle with a fencing token.

The state keeps, per programme, the token of its last run that Moodle granted the
lease (``lease_token:<programme>``) and the token the latest run asked for
(``lease_next:<programme>``, written before the call: if its answer is lost, the next
run proves with it that the lease is its own). A new token is drawn every run and
kept as granted only after Moodle granted it; a state whose token is not the lease's
current one (a copied state folder, an old backup restored) is refused: exit 3, with
what happened and what to do. The stores are in :mod:`buyin.moodle.lease`.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from buyin.errors import BuyinError, LeaseFencedError, LeaseHeldError, MoodleError
from buyin.moodle.lease import LeaseStore
from buyin.state import State

log = logging.getLogger(__name__)

TOKEN = "lease_token:{}"
NEXT = "lease_next:{}"


def _until(expires: int) -> str:
    return datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d %H:%M UTC")


def take(store: LeaseStore, state: State, programme: str, holder: str) -> BuyinError | None:
    """Take or renew the programme's lease with a new token: None when this state
    holds it now, else the refusal (another agent, or a stale copy of this one)."""
    granted = state.get_meta(TOKEN.format(programme)) or ""
    asked = state.get_meta(NEXT.format(programme)) or ""
    token = secrets.token_hex(16)
    state.set_meta(NEXT.format(programme), token)
    # the token of the state's last granted run; else this run's own (a retried call
    # whose first answer was lost after Moodle granted it); else the last run's (its
    # answer lost, or the run killed, before the state kept it)
    expected = [granted, *(t for t in (token, asked) if t and t != granted)]
    try:
        for candidate in expected:
            lease = store.acquire(programme, holder, token, candidate)
            if lease.acquired:
                break
    except MoodleError as exc:
        if exc.errorcode != "invalidparameter":
            raise
        # local_buyin before 0.4.0 takes no token: its lease, by name, without fencing
        log.warning("%s: local_buyin before 0.4.0: the lease is not fenced", programme)
        lease = store.acquire(programme, holder, "", "")
        if lease.acquired:
            return None
    if not lease.acquired:
        if lease.holder == holder:
            return LeaseFencedError(programme, store.where, _until(lease.expires))
        return LeaseHeldError(programme, lease.holder, _until(lease.expires), store.where)
    state.set_meta(TOKEN.format(programme), token)
    return None


def release(
    store: LeaseStore, state: State, programme: str, holder: str, *, force: bool = False
) -> bool:
    """Give the lease up (``force``: whoever holds it). The state's tokens are
    forgotten: its next run takes the lease afresh."""
    released = store.release(programme, holder, force)
    if released:
        state.set_meta(TOKEN.format(programme), "")
        state.set_meta(NEXT.format(programme), "")
    return released
