"""The registry: one :class:`ActionSpec` per :class:`~buyin.model.actions.Kind`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from buyin.actions import apply, checks
from buyin.actions.apply import ApplyContext, Outcome
from buyin.model.actions import Action, Kind
from buyin.model.snapshot import Snapshot
from buyin.moodle.encoding import items_per_call

#: Batch sizes derive from one budget of form fields per call
#: (:data:`buyin.moodle.encoding.FIELD_BUDGET`, under PHP's max_input_vars) over the
#: fields one item of the function's list parameter flattens to:
#: messages[i][touserid, text, textformat, clientmsgid]
MESSAGE_BATCH = items_per_call(4)
#: enrolments[i][roleid, userid, courseid, timestart, timeend]
ENROL_BATCH = items_per_call(5)
#: assignments[i][roleid, userid, contextlevel, instanceid]
ROLE_BATCH = items_per_call(4)
#: groups[i][courseid, name, description, idnumber]
GROUP_CREATE_BATCH = items_per_call(4)
#: members[i][groupid, userid]
GROUP_ADD_BATCH = items_per_call(2)
#: requests[i][courseid, userid, managerid]
SIGNOFF_BATCH = items_per_call(3)
#: items[i][userid, cmid, newstate]; local_buyin_complete_activities takes at most 500
#: (complete_activities::MAX_ITEMS)
OVERRIDE_BATCH = items_per_call(3, cap=500)
#: items[i][courseid, userid, role, managerid, figures (one JSON string)];
#: local_buyin_save_figures takes at most 500 (figures_manager::MAX_ITEMS)
FIGURES_BATCH = items_per_call(5, cap=500)


@dataclass(frozen=True)
class ActionSpec:
    kind: Kind
    #: why Moodle already holds it (then it is not pushed), or None
    already_true: Callable[[Action, Snapshot], str | None]
    #: applies a batch, returning each action's own outcome
    apply: Callable[[ApplyContext, list[Action]], list[Outcome]]
    #: actions per call; 1: one call each, run concurrently
    batch: int
    #: changes what we cache of the user (their data is fetched again next run)
    changes_learner: bool
    #: where local_buyin 0.2.0 is installed: the bulk apply and its batch size
    plugin_apply: Callable[[ApplyContext, list[Action]], list[Outcome]] | None = None
    plugin_batch: int = 0

    def applier(
        self, plugin: bool
    ) -> tuple[Callable[[ApplyContext, list[Action]], list[Outcome]], int]:
        """The apply function and batch size for a site with or without the plugin."""
        if plugin and self.plugin_apply is not None:
            return self.plugin_apply, self.plugin_batch
        return self.apply, self.batch


#: in the order they are pushed: completion first (messages describe what was completed),
#: enrolments and roles before the requests and messages that rely on them
SPECS: dict[Kind, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(
            Kind.OVERRIDE,
            checks.activity_complete,
            apply.override,
            1,
            True,
            plugin_apply=apply.override_bulk,
            plugin_batch=OVERRIDE_BATCH,
        ),
        ActionSpec(Kind.ENROL, checks.holds_role, apply.enrol, ENROL_BATCH, True),
        ActionSpec(
            Kind.ROLE_ASSIGN,
            checks.holds_role,
            apply.assign_roles,
            ROLE_BATCH,
            True,
        ),
        ActionSpec(
            Kind.GROUP_CREATE,
            checks.never,
            apply.create_groups,
            GROUP_CREATE_BATCH,
            False,
        ),
        ActionSpec(
            Kind.GROUP_ADD,
            checks.in_group,
            apply.add_to_groups,
            GROUP_ADD_BATCH,
            True,
        ),
        ActionSpec(
            Kind.SIGNOFF_REQUEST,
            checks.signoff_requested,
            apply.request_signoffs,
            SIGNOFF_BATCH,
            False,
        ),
        ActionSpec(Kind.MESSAGE, checks.never, apply.send_messages, MESSAGE_BATCH, False),
        # pushed after the sync's own actions and history (buyin.sync), where the plugin
        # has local_buyin_save_figures; nothing in Moodle tells they are held but the ledger
        ActionSpec(Kind.FIGURES, checks.never, apply.save_figures, FIGURES_BATCH, False),
    )
}


def spec(kind: Kind) -> ActionSpec:
    return SPECS[kind]
