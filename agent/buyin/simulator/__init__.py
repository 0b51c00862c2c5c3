"""A simulated Moodle 5.1 site answering the REST web services the agent calls.

Used by the tests and by ``buyin demo``; needs nothing beyond the agent's own
dependencies (``responses`` only for :meth:`SimulatedMoodle.register`).
"""

from __future__ import annotations

from .faults import Fault, Faults
from .model import (
    ActivityCompletion,
    Attempt,
    Course,
    Enrolment,
    Group,
    Message,
    Quiz,
    Scenario,
    User,
)
from .seed import GENERATED_AT, generate_scenario
from .site import SimulatedMoodle
from .transport import SimulatedAdapter

__all__ = [
    "GENERATED_AT",
    "ActivityCompletion",
    "Attempt",
    "Course",
    "Enrolment",
    "Fault",
    "Faults",
    "Group",
    "Message",
    "Quiz",
    "Scenario",
    "SimulatedAdapter",
    "SimulatedMoodle",
    "User",
    "generate_scenario",
]
