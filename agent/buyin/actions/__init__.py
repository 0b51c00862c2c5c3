"""One spec per kind of action: how to tell it is already true in Moodle, how it is applied and batched, and whether it changes what we
cache of the learner. The planner and the pusher read this registry and nothing
else about kinds.
"""

from buyin.actions.apply import Outcome
from buyin.actions.registry import SPECS, ActionSpec, spec

__all__ = ["SPECS", "ActionSpec", "Outcome", "spec"]
