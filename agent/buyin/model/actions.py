"""Actions: what the rules want done in Moodle, typed by kind.

Each kind has one parameters dataclass; :data:`PARAMS` binds them. What a kind
means to the planner and the pusher (how it reads, how to tell it is already
true, how it is applied and batched) is in :mod:`buyin.actions`, one spec per kind.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """The kinds of action the agent can take (stored in the ledger by value)."""

    OVERRIDE = "override"
    ENROL = "enrol"
    ROLE_ASSIGN = "role_assign"
    GROUP_CREATE = "group_create"
    GROUP_ADD = "group_add"
    SIGNOFF_REQUEST = "signoff_request"
    MESSAGE = "message"
    FIGURES = "figures"


@dataclass(frozen=True)
class OverrideParams:
    """Mark an activity complete for the learner (never the reverse)."""

    cmid: int
    newstate: int = 1


@dataclass(frozen=True)
class EnrolParams:
    """Enrol the user in a course with a role (manual enrolment)."""

    courseid: int
    roleid: int
    #: 0: from now
    timestart: int = 0
    #: 0: no end
    timeend: int = 0


@dataclass(frozen=True)
class RoleAssignParams:
    """Give a user already enrolled in a course another role there."""

    courseid: int
    roleid: int


@dataclass(frozen=True)
class GroupCreateParams:
    courseid: int
    name: str
    idnumber: str


@dataclass(frozen=True)
class GroupAddParams:
    """Add the user to a group: by id, or by idnumber for a group created in the same run."""

    courseid: int
    idnumber: str
    groupid: int = 0


@dataclass(frozen=True)
class SignoffRequestParams:
    """Ask local_buyin to record a sign-off request for the learner."""

    courseid: int
    managerid: int


@dataclass(frozen=True)
class MessageParams:
    """A personal message (HTML) to one user.

    The rules give the intent: a template id (``"precheck.result"``) and its data
    (JSON-able facts, no HTML). The planner renders ``summary`` and ``text`` once
    (:mod:`buyin.messages`); the ledger keeps them, and what is sent, even after a
    crash, is the text stored then.
    """

    touserid: int
    template: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    #: one line for people reading a plan (``buyin sync --dry-run``); set when rendered
    summary: str = ""
    #: the HTML sent; set when rendered
    text: str = ""
    #: the same message as local_buyin renders it in the recipient's language (lang
    #: strings, their values, dates as timestamps: :mod:`buyin.messages.intent`); set when
    #: rendered, frozen with ``text``
    intent: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FiguresParams:
    """What local_buyin's My team and My results pages show of one person in one
    programme (local_buyin_save_figures): a learner's figures, or (``role`` "manager")
    a manager's own poll answer. ``digest`` names the content: the action's key
    carries it, so figures the ledger holds as pushed are not pushed again."""

    courseid: int
    #: "learner" or "manager"
    role: str
    #: a learner's manager as the agent knows them (who may see the row); 0 for none
    managerid: int
    figures: Mapping[str, Any] = field(default_factory=dict)
    digest: str = ""


Params = (
    OverrideParams
    | EnrolParams
    | RoleAssignParams
    | GroupCreateParams
    | GroupAddParams
    | SignoffRequestParams
    | MessageParams
    | FiguresParams
)

#: the parameters dataclass of each kind
PARAMS: dict[Kind, type[Params]] = {
    Kind.OVERRIDE: OverrideParams,
    Kind.ENROL: EnrolParams,
    Kind.ROLE_ASSIGN: RoleAssignParams,
    Kind.GROUP_CREATE: GroupCreateParams,
    Kind.GROUP_ADD: GroupAddParams,
    Kind.SIGNOFF_REQUEST: SignoffRequestParams,
    Kind.MESSAGE: MessageParams,
    Kind.FIGURES: FiguresParams,
}


def params_from_json(kind: Kind | str, data: Mapping[str, Any]) -> Params:
    """The parameters of ``kind`` from their stored JSON (unknown keys are ignored).

    Raises :class:`ValueError` for an unknown kind and :class:`TypeError` where a
    required parameter is missing.
    """
    cls = PARAMS[Kind(kind)]
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def params_to_json(params: Params) -> dict[str, Any]:
    return asdict(params)


@dataclass(frozen=True)
class Action:
    """One thing to do in Moodle, with a stable idempotency key.

    ``key`` names what is done, not when: ``override:u12:cm45``,
    ``message:signoff-request:u12:c4:2026-11-22``.
    """

    key: str
    kind: Kind
    program: str
    userid: int
    #: who or what it is about, for people: "learner03 · Why listening matters"
    target: str
    params: Params
    #: why the rules asked for it: ``rule`` (the rule's name) and details for the ledger
    reason: Mapping[str, Any] = field(default_factory=dict)
    #: keys of actions that must be done first (else this one waits for a later run)
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        expected = PARAMS[self.kind]
        if not isinstance(self.params, expected):
            raise TypeError(
                f"action {self.key}: a {self.kind.value} action takes {expected.__name__}, "
                f"not {type(self.params).__name__}"
            )

    @property
    def rule(self) -> str:
        return str(self.reason.get("rule", ""))
