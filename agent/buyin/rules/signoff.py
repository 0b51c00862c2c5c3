"""Manager sign-off (SPEC §4.2, practice P2).

Awaiting sign-off = every course-completion criterion met but the "Manual
completion by others" role criterion (aggregation ALL). For each awaiting learner
the approver is their own manager (profile field), or the mapping's fallback
approver when the manager is missing, unknown, suspended or the learner
themself. Each approver is asked once per learner (a digest lists every learner with
news for them: how long each has waited, the link where they sign), reminded every
``remind_every_days`` at most ``max_reminders`` times; after ``escalate_after_days``
the approver's own manager gets the learner too, once; then nothing more but the
weekly team digest. When the digest goes out is the inbox's business
(:mod:`buyin.rules.inbox`: working days, a manager's week).

On the plugin path a manager may reject: that is an answer. No reminder or escalation
follows; the learner is told, with the manager's comment and what to do next. When
the learner completes again after the rejection (a criterion completed later), or the
manager reopens the request, a new request starts with its own clocks.
The approver is first made able to sign (the channel: by default enrolment in the
course with the sign-off role). When the criterion turns complete the learner is
told who signed off.

Everything the rule knows of earlier runs comes from the ledger (which digests
were delivered, to whom, listing whom): :mod:`buyin.rules.signoff_records` projects it into the
per-learner sign-off records that `status` and the reports read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from buyin.model.actions import (
    Action,
    EnrolParams,
    GroupAddParams,
    GroupCreateParams,
    Kind,
    RoleAssignParams,
    SignoffRequestParams,
)
from buyin.model.clock import DAY, day_of
from buyin.model.ledger import Ledger, LedgerEntry
from buyin.model.programme import Signoff
from buyin.model.snapshot import (
    AGGREGATION_ALL,
    CRITERIA_ROLE,
    Learner,
    Person,
    SignoffRow,
    Snapshot,
)
from buyin.rules import History, RuleResult
from buyin.rules.messages import course_link, first_name, message
from buyin.rules.precheck import evidence

DIGEST = "signoff-digest"
DONE = "signoff-done"
REJECTED = "rejected"
#: the learner told of a rejection (the rule of the message's reason)
TOLD_REJECTED = "signoff-rejected"


# -- who signs -------------------------------------------------------------------


@dataclass(frozen=True)
class Approver:
    person: Person
    #: why the fallback approver was used, when it was
    note: str = ""


def resolve_approver(
    snapshot: Snapshot, learner: Person, cfg: Signoff
) -> tuple[Approver | None, str]:
    """The learner's approver, or None with the reason."""
    ref = learner.custom.get(cfg.manager_field, "").strip()
    manager = snapshot.find(cfg.match_by, ref) if ref else None
    if not ref:
        problem = f"no manager in profile field '{cfg.manager_field}'"
    elif manager is None:
        problem = f"manager {ref!r} is unknown"
    elif manager.suspended:
        problem = f"manager {manager.username} is suspended"
    elif manager.id == learner.id:
        problem = "the learner is named as their own manager"
    else:
        return Approver(manager), ""
    fallback = snapshot.find(cfg.match_by, cfg.fallback_approver) if cfg.fallback_approver else None
    if fallback is None or fallback.suspended or fallback.id == learner.id:
        why = (
            "no fallback approver"
            if not cfg.fallback_approver
            else (f"fallback approver {cfg.fallback_approver!r} is unknown or suspended")
        )
        return None, f"{problem}, and {why}"
    return Approver(fallback, note=f"{problem}: fallback approver {fallback.username}"), ""


def escalation_target(
    snapshot: Snapshot, learner: Person, approver: Person, cfg: Signoff
) -> tuple[Person | None, str]:
    """The approver's own manager; a chain that loops back goes to the fallback."""
    chain = [learner.id, approver.id]
    ref = approver.custom.get(cfg.manager_field, "").strip()
    boss = snapshot.find(cfg.match_by, ref) if ref else None
    note = ""
    if boss is not None and boss.id in chain:
        note = f"manager chain loops ({learner.username} → {approver.username} → {boss.username})"
        boss = None
    if boss is None or boss.suspended:
        fallback = (
            snapshot.find(cfg.match_by, cfg.fallback_approver) if cfg.fallback_approver else None
        )
        if fallback is not None and fallback.id not in chain and not fallback.suspended:
            return fallback, note or "no manager above the approver: fallback approver"
        return None, note or f"{approver.username} has no manager to escalate to"
    return boss, note


# -- the channel: how a sign-off is requested and observed -------------------------


class SignoffChannel(Protocol):
    """How sign-off is requested and observed (completion report now, a plugin later)."""

    name: str

    def prepare(
        self, snapshot: Snapshot, approver: Person, learners: list[Learner], roleid: int
    ) -> list[Action]: ...

    def link(self, snapshot: Snapshot, approver: Person, groupid: int | None) -> str: ...

    def signed_at(self, learner: Learner) -> int | None: ...

    def rejection(self, learner: Learner) -> SignoffRow | None: ...


class CompletionReportChannel:
    """Moodle core: the approver marks "Manual completion by others" in the course
    completion report, which they can open only when enrolled with the sign-off role."""

    name = "completion_report"

    def prepare(
        self, snapshot: Snapshot, approver: Person, learners: list[Learner], roleid: int
    ) -> list[Action]:
        holder = snapshot.people.get(approver.id)
        if holder is not None and roleid in holder.roles:
            return []
        course = snapshot.course.id
        # enrolled already (another role): add the role, since re-enrolling would reset
        # their enrolment's dates and status; otherwise enrol them with it
        if holder is not None:
            kind, prefix = Kind.ROLE_ASSIGN, "role"
            params: RoleAssignParams | EnrolParams = RoleAssignParams(course, roleid)
        else:
            kind, prefix = Kind.ENROL, "enrol"
            params = EnrolParams(course, roleid)
        return [
            Action(
                key=f"{prefix}:u{approver.id}:c{course}:r{roleid}",
                kind=kind,
                program=snapshot.programme.id,
                userid=approver.id,
                target=f"{approver.username} (sign-off role)",
                params=params,
                reason={"rule": "signoff", "why": "the approver must hold the role to sign"},
            )
        ]

    def link(self, snapshot: Snapshot, approver: Person, groupid: int | None) -> str:
        url = f"{snapshot.site_url}/report/completion/index.php?course={snapshot.course.id}"
        return url + (f"&group={groupid}" if groupid else "")

    def signed_at(self, learner: Learner) -> int | None:
        completion = learner.data.completion
        if completion is None:
            return None
        roles = completion.role_criteria
        if roles and all(c.complete for c in roles):
            times = [c.timecompleted for c in roles if c.timecompleted]
            return max(times) if times else completion.completion_time
        return None

    def rejection(self, learner: Learner) -> SignoffRow | None:
        return None  # the completion report has no "reject"


class PluginChannel:
    """local_buyin: requests pushed to the plugin, which shows each manager their own
    reports and records who decided; decisions read back with local_buyin_get_signoffs."""

    name = "plugin"

    def __init__(self, rows: Mapping[int, SignoffRow]) -> None:
        self.rows = rows

    def prepare(
        self, snapshot: Snapshot, approver: Person, learners: list[Learner], roleid: int
    ) -> list[Action]:
        course = snapshot.course.id
        # signing marks the criterion of the role the approver holds in the course
        holds_role = CompletionReportChannel().prepare(snapshot, approver, learners, roleid)
        return holds_role + [
            Action(
                key=f"signoff-request:u{x.id}:c{course}:m{approver.id}",
                kind=Kind.SIGNOFF_REQUEST,
                program=snapshot.programme.id,
                userid=x.id,
                target=f"{x.person.username} → {approver.username}",
                params=SignoffRequestParams(courseid=course, managerid=approver.id),
                reason={"rule": "signoff", "why": "request in local_buyin"},
            )
            for x in learners
        ]

    def link(self, snapshot: Snapshot, approver: Person, groupid: int | None) -> str:
        return f"{snapshot.site_url}/local/buyin/index.php"

    def request_link(self, snapshot: Snapshot, learner: Learner) -> str | None:
        """The learner's own request on the Sign-off requests page (its row there: the
        page marks each request's comment field with the request's id), once local_buyin
        holds it (None before: the page itself)."""
        row = self.rows.get(learner.id)
        if row is None or row.status not in ("requested", REJECTED):
            return None
        return f"{snapshot.site_url}/local/buyin/index.php#local-buyin-comment-{row.id}"

    def rejection(self, learner: Learner) -> SignoffRow | None:
        """The manager's last rejection of the learner's request, where there was one
        (still ``rejected``, or reopened since: ``requested`` with a decision time)."""
        row = self.rows.get(learner.id)
        if row is None or not row.timedecided or row.status not in (REJECTED, "requested"):
            return None
        return row

    def signed_at(self, learner: Learner) -> int | None:
        row = self.rows.get(learner.id)
        return row.timedecided or None if row is not None and row.signed else None

    def signer(self, learner: Learner) -> int | None:
        row = self.rows.get(learner.id)
        return row.decidedby or None if row is not None and row.signed else None


def signer_of(channel: SignoffChannel, learner: Learner) -> int | None:
    return channel.signer(learner) if isinstance(channel, PluginChannel) else None


def channel_for(snapshot: Snapshot) -> SignoffChannel:
    if snapshot.plugin_signoffs is not None:
        return PluginChannel(snapshot.plugin_signoffs)
    return CompletionReportChannel()


# -- what the ledger says was delivered -------------------------------------------


@dataclass(frozen=True)
class Delivered:
    recipient: int
    at: int
    learners: Mapping[int, str]  # uid -> "direct" | "escalated"


def delivered_digests(ledger: Mapping[str, LedgerEntry], course: int) -> list[Delivered]:
    """The sign-off digests delivered for the course, oldest first."""
    return [
        Delivered(
            recipient=entry.userid,
            at=entry.applied_at,
            learners={int(k): str(v) for k, v in entry.reason.get("learners", {}).items()},
        )
        for entry in Ledger.of(ledger).delivered(DIGEST)
        if int(entry.reason.get("course", 0)) == course and entry.applied_at is not None
    ]


@dataclass
class Pending:
    learner: Learner
    since: int
    approver: Approver
    escalate_to: Person | None = None
    note: str = ""
    #: when this request started: 0, or the rejection it follows (its own clocks)
    opened: int = 0


def since_opened(digests: Iterable[Delivered], opened: int) -> list[Delivered]:
    """The digests of the current request (delivered from ``opened`` on)."""
    return [d for d in digests if d.at >= opened]


def awaiting_since(learner: Learner) -> int | None:
    completion = learner.data.completion
    if completion is None or not completion.awaiting_signoff:
        return None
    times = [
        c.timecompleted for c in completion.criteria if c.type != CRITERIA_ROLE and c.timecompleted
    ]
    return max(times) if times else None


def _team_group(person: Person, snapshot: Snapshot) -> int | None:
    name = f"Team {person.fullname}"
    for someone in snapshot.people.values():
        for gid, gname in someone.groups:
            if gname == name:
                return gid
    return None


# -- the rule --------------------------------------------------------------------


def first_asked(digests: Iterable[Delivered]) -> dict[tuple[int, int], int]:
    """When each approver was first asked to sign for each learner: (learner, approver)."""
    out: dict[tuple[int, int], int] = {}
    for d in digests:
        for uid, how in d.learners.items():
            if how == "direct":
                out.setdefault((uid, d.recipient), d.at)
    return out


def opened_at(channel: SignoffChannel, learner: Learner) -> int | None:
    """When the learner's current request started: 0 for their first; the rejection's
    time where they completed again after it (or the manager reopened it); None while
    the rejection stands (no request is open)."""
    row = channel.rejection(learner)
    if row is None:
        return 0
    decided = int(row.timedecided or 0)
    since = awaiting_since(learner)
    if row.status == REJECTED and (since is None or since <= decided):
        return None
    return decided


def classify(
    snapshot: Snapshot,
    cfg: Signoff,
    now: int,
    channel: SignoffChannel,
    asked: Mapping[tuple[int, int], int],
    digests: Iterable[Delivered] = (),
) -> list[tuple[Learner, Pending | str]]:
    """Per learner concerned: ``"signed"``, a :class:`Pending` request, or why undecided.

    Escalation counts from when the approver was first asked (``asked``), never
    from when the learner finished: nobody is escalated before being asked. A
    standing rejection is ``"rejected"``; a request after a rejection counts from it
    (``digests``: what was delivered, for the clocks of such a request)."""
    out: list[tuple[Learner, Pending | str]] = []
    for _, learner in sorted(snapshot.learners.items()):
        completion = learner.data.completion
        if (
            completion is not None
            and completion.role_criteria
            and (completion.aggregation != AGGREGATION_ALL)
        ):
            out.append((learner, "course completion aggregation is ANY: sign-off is not required"))
            continue
        if channel.signed_at(learner) is not None:
            out.append((learner, "signed"))
            continue
        opened = opened_at(channel, learner)
        if opened is None:
            out.append((learner, REJECTED))
            continue
        since = awaiting_since(learner)
        if since is None:
            continue
        approver, problem = resolve_approver(snapshot, learner.person, cfg)
        if approver is None:
            out.append((learner, f"awaiting sign-off, but {problem}"))
            continue
        item = Pending(learner, since, approver, note=approver.note, opened=opened)
        requested = (
            first_asked(since_opened(digests, opened)).get((learner.id, approver.person.id))
            if opened
            else asked.get((learner.id, approver.person.id))
        )
        if requested is not None and now - requested >= cfg.escalate_after_days * DAY:
            boss, why = escalation_target(snapshot, learner.person, approver.person, cfg)
            item.escalate_to = boss
            if why:
                item.note = "; ".join(x for x in (item.note, why) if x)
        out.append((learner, item))
    return out


def evaluate(
    snapshot: Snapshot,
    history: History,
    now: int,
    channel: SignoffChannel | None = None,
) -> RuleResult:
    cfg = snapshot.programme.signoff
    result = RuleResult()
    if cfg is None:
        return result
    channel = channel or channel_for(snapshot)
    course = snapshot.course.id
    roleid = snapshot.roles.get(str(cfg.role)) if isinstance(cfg.role, str) else cfg.role
    if roleid is None:
        return result  # doctor names the missing role; nothing to request without it
    digests = delivered_digests(history.ledger, course)
    # per learner, the digests that named them (oldest first)
    naming: dict[int, list[Delivered]] = {}
    for d in digests:
        for uid in d.learners:
            naming.setdefault(uid, []).append(d)
    ever_asked = {uid for d in digests for uid, how in d.learners.items() if how == "direct"}

    pending: list[Pending] = []
    for learner, item in classify(snapshot, cfg, now, channel, first_asked(digests), digests):
        if isinstance(item, Pending):
            pending.append(item)
        elif item == "signed":
            told = f"message:signoff-done:u{learner.id}:c{course}"
            if learner.id in ever_asked and not history.applied(told):
                result.actions.append(
                    _signed_message(
                        snapshot, learner, cfg, naming[learner.id], signer_of(channel, learner)
                    )
                )
        elif item == REJECTED:
            row = channel.rejection(learner)
            if row is not None:
                result.actions.append(_rejected_message(snapshot, learner, row))
        else:
            result.undecided[learner.id] = item

    # one digest per recipient: their own learners with news (asked for the first time,
    # or a reminder due), and learners escalated to them, oldest first
    inbox: dict[int, dict[int, tuple[Pending, str]]] = {}
    waiting: dict[int, list[Learner]] = {}
    people: dict[int, Person] = {}
    for item in sorted(pending, key=lambda p: (p.since, p.learner.id)):
        uid, approver = item.learner.id, item.approver.person
        people[approver.id] = approver
        waiting.setdefault(approver.id, []).append(item.learner)
        current = since_opened(naming.get(uid, ()), item.opened)
        asked = [
            d for d in current if d.recipient == approver.id and d.learners.get(uid) == "direct"
        ]
        escalated = any(d.learners.get(uid) == "escalated" for d in current)
        reminder_due = (
            bool(asked)
            and not escalated
            and item.escalate_to is None
            and len(asked) - 1 < cfg.max_reminders
            and now - asked[-1].at >= cfg.remind_every_days * DAY
        )
        if not asked or reminder_due:
            inbox.setdefault(approver.id, {})[uid] = (item, "direct")
        if item.escalate_to is not None and not escalated:
            people[item.escalate_to.id] = item.escalate_to
            inbox.setdefault(item.escalate_to.id, {})[uid] = (item, "escalated")
    for rid, learners in sorted(waiting.items()):
        # what lets them sign is wanted while anyone waits for them, digest due or not
        # (a refused enrolment is planned again, not forgotten until the next reminder)
        result.actions.extend(channel.prepare(snapshot, people[rid], learners, roleid))
    for rid, items in sorted(inbox.items()):
        recipient = people[rid]
        # when each of their own learners was first asked for, in this request
        asked_before = {
            uid: first[0].at
            for uid, (p, how) in items.items()
            if how == "direct"
            and (
                first := [
                    d
                    for d in since_opened(naming.get(uid, ()), p.opened)
                    if d.recipient == rid and d.learners.get(uid) == "direct"
                ]
            )
        }
        if cfg.team_groups:
            result.actions.extend(_team_actions(snapshot, recipient, items))
        groupid = _team_group(recipient, snapshot) if cfg.team_groups else None
        holder = snapshot.people.get(recipient.id)
        result.actions.append(
            _digest(
                snapshot,
                recipient,
                items,
                {
                    "url": channel.link(snapshot, recipient, groupid),
                    # the link's words name where it goes: the team's view where filtered
                    # the plugin's page lists only the approver's own requests, with or
                    # without groups; the completion report is filtered to their group
                    "page": channel.name
                    + ("_team" if groupid and isinstance(channel, CompletionReportChannel) else ""),
                },
                now,
                asked=asked_before,
                can_reject=isinstance(channel, PluginChannel),
                channel=channel,
                reminder=bool(asked_before)
                and all(uid in asked_before for uid, (_, how) in items.items() if how == "direct"),
                # the report opens only with the role, which the agent may not be allowed to give
                needs_role=isinstance(channel, CompletionReportChannel)
                and (holder is None or roleid not in holder.roles),
            )
        )
    for item in pending:
        result.facts.setdefault(item.learner.id, {})["awaiting_since"] = item.since
    return result


def _team_actions(
    snapshot: Snapshot, manager: Person, items: Mapping[int, tuple[Pending, str]]
) -> list[Action]:
    course = snapshot.course.id
    name = f"Team {manager.fullname}"
    idnumber = f"buyin-team-{manager.id}"
    actions: list[Action] = []
    groupid = _team_group(manager, snapshot)
    if groupid is None:
        actions.append(
            Action(
                key=f"group:c{course}:u{manager.id}",
                kind=Kind.GROUP_CREATE,
                program=snapshot.programme.id,
                userid=manager.id,
                target=name,
                params=GroupCreateParams(courseid=course, name=name, idnumber=idnumber),
                reason={"rule": "signoff", "why": "team group"},
            )
        )
    members = [manager.id] + [uid for uid, (_, how) in items.items() if how == "direct"]
    for uid in members:
        person = snapshot.people.get(uid)
        if person is not None and groupid is not None and groupid in {g for g, _ in person.groups}:
            continue
        actions.append(
            Action(
                key=f"group-member:c{course}:u{manager.id}:u{uid}",
                kind=Kind.GROUP_ADD,
                program=snapshot.programme.id,
                userid=uid,
                target=f"{person.username if person else uid} → {name}",
                params=GroupAddParams(courseid=course, idnumber=idnumber, groupid=groupid or 0),
                reason={"rule": "signoff", "why": "team group"},
            )
        )
    return actions


def _digest(
    snapshot: Snapshot,
    recipient: Person,
    items: Mapping[int, tuple[Pending, str]],
    link: Mapping[str, str],
    now: int,
    *,
    reminder: bool,
    needs_role: bool = False,
    asked: Mapping[int, int] | None = None,
    can_reject: bool = False,
    channel: SignoffChannel | None = None,
) -> Action:
    """The digest (template "signoff.digest"); ``link``: the page where they sign
    (``url``) and which page it is (``page``: the channel's name); ``asked``: when each
    learner already asked for was first asked (a reminder says so)."""
    asked = asked or {}
    course = snapshot.course
    learners = {str(p.learner.id): how for p, how in items.values()}
    ordered = sorted(items.values(), key=lambda x: (x[0].since, x[0].learner.id))
    data = {
        "firstname": first_name(recipient),
        "course": course_link(course),
        "now": now,
        "reminder": reminder,
        "count": len(learners),
        # what they confirm by signing, per learner
        "own": [
            {
                "name": p.learner.person.fullname,
                "since": p.since,
                "asked": asked.get(p.learner.id),
                # the learner's own request on the plugin's page, where it is known
                "request": channel.request_link(snapshot, p.learner)
                if isinstance(channel, PluginChannel)
                else None,
                **evidence(snapshot, p.learner),
            }
            for p, how in ordered
            if how == "direct"
        ],
        "escalated": [
            {
                "name": p.learner.person.fullname,
                "since": p.since,
                "manager": p.approver.person.fullname,
            }
            for p, how in ordered
            if how == "escalated"
        ],
        "link": dict(link),
        # the approver may not hold the sign-off role yet (the agent may not assign it)
        "needs_role": needs_role,
        # local_buyin's page takes a rejection with a comment (core's report has none)
        "can_reject": can_reject,
    }
    return message(
        snapshot.programme.id,
        f"message:signoff-request:u{recipient.id}:c{course.id}:{day_of(now)}",
        recipient,
        "signoff.digest",
        data,
        {"rule": DIGEST, "course": course.id, "learners": learners},
    )


def _signed_message(
    snapshot: Snapshot,
    learner: Learner,
    cfg: Signoff,
    digests: Iterable[Delivered],
    signer: int | None = None,
) -> Action:
    """Tell the learner who signed: the plugin knows; the completion report does not,
    so it is the approver we last asked (or, failing that, their approver now)."""
    approver, _ = resolve_approver(snapshot, learner.person, cfg)
    asked = [d.recipient for d in digests if d.learners.get(learner.id) == "direct"]
    person = (
        (snapshot.person(signer) if signer else None)
        or (snapshot.person(asked[-1]) if asked else None)
        or (approver.person if approver else None)
    )
    course = snapshot.course
    data = {
        "firstname": first_name(learner.person),
        "who": person.fullname if person else None,
        "course": course_link(course),
    }
    return message(
        snapshot.programme.id,
        f"message:signoff-done:u{learner.id}:c{course.id}",
        learner.person,
        "signoff.signed",
        data,
        {"rule": DONE, "course": course.id, "approver": person.id if person else None},
    )


def _rejected_message(snapshot: Snapshot, learner: Learner, row: SignoffRow) -> Action:
    """Tell the learner their manager is not ready to sign off (once per rejection):
    who, what they wrote, and what to do next."""
    manager = (
        snapshot.person(row.decidedby or row.managerid)
        if (row.decidedby or row.managerid)
        else None
    )
    course = snapshot.course
    data = {
        "firstname": first_name(learner.person),
        "who": manager.fullname if manager else None,
        "comment": (row.comment or "").strip(),
        "course": course_link(course),
        "results": {"url": f"{snapshot.site_url}/local/buyin/myresults.php"},
    }
    return message(
        snapshot.programme.id,
        f"message:signoff-rejected:u{learner.id}:c{course.id}:{row.timedecided}",
        learner.person,
        "signoff.rejected",
        data,
        {"rule": TOLD_REJECTED, "course": course.id, "decided": row.timedecided},
    )
