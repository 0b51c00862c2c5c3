"""One spec per kind of action: how it reads in a plan, how to tell it is already
true in Moodle, how it is applied and batched, and whether it changes what we
cache of the learner. The planner and the pusher read this registry and nothing
else about kinds.
"""

from buyin.actions.apply import Outcome
from buyin.actions.registry import SPECS, ActionSpec, spec
from buyin.model.actions import Action


def describe(action: Action) -> str:
    """How an action reads for people (``buyin sync -v``, ``--dry-run``)."""
    return SPECS[action.kind].describe(action)


__all__ = ["SPECS", "ActionSpec", "Outcome", "describe", "spec"]
