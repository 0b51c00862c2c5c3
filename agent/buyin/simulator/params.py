"""Moodle's parameter validation (``external_api::validate_parameters``) for the
functions the simulator serves: declared types, required keys, defaults.

The declarations follow tests/fixtures/moodle/signatures.json (the top level)
and Moodle's source for the nested structures the signatures list as "array".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Need = Literal["required", "default", "optional"]


class ParamError(Exception):
    """An invalid or missing parameter; ``detail`` is Moodle's debuginfo text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class P:
    """A scalar parameter of a Moodle PARAM_* type."""

    type: str
    need: Need = "required"
    default: Any = None


@dataclass(frozen=True)
class Obj:
    keys: dict[str, Spec]
    need: Need = "required"
    default: Any = None


@dataclass(frozen=True)
class Lst:
    item: Spec
    need: Need = "required"
    default: Any = field(default_factory=list)


Spec = P | Obj | Lst

_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_ALPHA = re.compile(r"^[A-Za-z]*$")
_ALPHANUM = re.compile(r"^[A-Za-z0-9]*$")
_ALPHANUMEXT = re.compile(r"^[A-Za-z0-9_-]*$")


def _scalar(value: Any, ptype: str) -> Any:
    if isinstance(value, dict | list):
        raise ParamError(
            f'Invalid external api parameter: the value is array, the server was expecting "{ptype}" type'
        )
    text = str(value)
    bad = ParamError(
        f'Invalid external api parameter: the value is "{text}", the server was expecting "{ptype}" type'
    )
    if ptype == "int":
        if not _INT.match(text):
            raise bad
        return int(text)
    if ptype == "bool":
        if text not in ("0", "1"):
            raise bad
        return text == "1"
    if ptype == "float":
        if not _FLOAT.match(text):
            raise bad
        return float(text)
    if ptype == "alpha" and not _ALPHA.match(text):
        raise bad
    if ptype == "alphanum" and not _ALPHANUM.match(text):
        raise bad
    if ptype == "alphanumext" and not _ALPHANUMEXT.match(text):
        raise bad
    return text


def validate(spec: Spec, value: Any, key: str = "") -> Any:
    """Validate and convert ``value`` (strings from PHP's $_POST) against ``spec``."""
    prefix = f"{key} => " if key else ""
    try:
        if isinstance(spec, P):
            return _scalar(value, spec.type)
        if isinstance(spec, Lst):
            if not isinstance(value, list):
                raise ParamError(f"Only arrays accepted. The bad value is: '{value}'")
            return [validate(spec.item, item) for item in value]
        if not isinstance(value, dict):
            raise ParamError(f"Only arrays accepted. The bad value is: '{value}'")
        result: dict[str, Any] = {}
        for name, sub in spec.keys.items():
            if name not in value:
                if sub.need == "required":
                    raise ParamError(f"Missing required key in single structure: {name}")
                if sub.need == "default":
                    result[name] = (
                        list(sub.default) if isinstance(sub.default, list) else sub.default
                    )
                continue
            result[name] = validate(sub, value[name], name)
        unexpected = [k for k in value if k not in spec.keys]
        if unexpected:
            raise ParamError(
                f"Unexpected keys ({', '.join(unexpected)}) detected in parameter array."
            )
        return result
    except ParamError as error:
        if key and not error.detail.startswith(prefix):
            raise ParamError(f"{prefix}Invalid parameter value detected: {error.detail}") from None
        raise


def _opt(ptype: str) -> P:
    return P(ptype, "optional")


def _dflt(ptype: str, default: Any) -> P:
    return P(ptype, "default", default)


_OPTIONS = Lst(Obj({"name": P("alphanumext"), "value": P("raw")}), "default")
_QUIZ_ATTEMPTS = Obj(
    {
        "quizid": P("int"),
        "userid": _dflt("int", 0),
        "status": _dflt("alpha", "finished"),
        "includepreviews": _dflt("bool", False),
    }
)
_FEEDBACK = Obj({"feedbackid": P("int"), "courseid": _dflt("int", 0)})
_COURSE_USER = Obj({"courseid": P("int"), "userid": P("int")})

SPECS: dict[str, Obj] = {
    "core_webservice_get_site_info": Obj({"serviceshortnames": Lst(P("alphanumext"), "default")}),
    "core_course_get_courses_by_field": Obj(
        {"field": _dflt("alpha", ""), "value": _dflt("raw", "")}
    ),
    "core_course_get_contents": Obj({"courseid": P("int"), "options": _OPTIONS}),
    "mod_quiz_get_quizzes_by_courses": Obj({"courseids": Lst(P("int"), "default")}),
    "core_enrol_get_enrolled_users": Obj({"courseid": P("int"), "options": _OPTIONS}),
    "gradereport_user_get_grade_items": Obj(
        {"courseid": P("int"), "userid": _dflt("int", 0), "groupid": _dflt("int", 0)}
    ),
    "mod_quiz_get_user_quiz_attempts": _QUIZ_ATTEMPTS,
    "mod_quiz_get_user_attempts": _QUIZ_ATTEMPTS,
    "mod_quiz_get_attempt_review": Obj({"attemptid": P("int"), "page": _dflt("int", -1)}),
    "mod_quiz_get_edit_grading_page_data": Obj({"quizid": P("int")}),
    "core_completion_get_activities_completion_status": _COURSE_USER,
    "core_completion_get_course_completion_status": _COURSE_USER,
    "core_completion_override_activity_completion_status": Obj(
        {"userid": P("int"), "cmid": P("int"), "newstate": P("int")}
    ),
    "core_message_send_instant_messages": Obj(
        {
            "messages": Lst(
                Obj(
                    {
                        "touserid": P("int"),
                        "text": P("raw"),
                        "textformat": _dflt("int", 0),
                        "clientmsgid": _opt("alphanumext"),
                    }
                )
            )
        }
    ),
    "core_message_get_messages": Obj(
        {
            "useridto": P("int"),
            "useridfrom": _dflt("int", 0),
            "type": _dflt("alpha", "both"),
            "read": _dflt("int", 1),
            "newestfirst": _dflt("bool", True),
            "limitfrom": _dflt("int", 0),
            "limitnum": _dflt("int", 0),
        }
    ),
    "enrol_manual_enrol_users": Obj(
        {
            "enrolments": Lst(
                Obj(
                    {
                        "roleid": P("int"),
                        "userid": P("int"),
                        "courseid": P("int"),
                        "timestart": _opt("int"),
                        "timeend": _opt("int"),
                        "suspend": _opt("int"),
                    }
                )
            )
        }
    ),
    "enrol_manual_unenrol_users": Obj(
        {"enrolments": Lst(Obj({"userid": P("int"), "courseid": P("int"), "roleid": _opt("int")}))}
    ),
    "core_user_get_users_by_field": Obj({"field": P("alpha"), "values": Lst(P("raw"))}),
    "core_user_get_user_preferences": Obj({"name": _dflt("raw", ""), "userid": _dflt("int", 0)}),
    "core_user_update_user_preferences": Obj(
        {
            "userid": _dflt("int", 0),
            "emailstop": _dflt("int", None),
            "preferences": Lst(Obj({"type": P("raw"), "value": _dflt("raw", None)}), "default"),
        }
    ),
    "core_group_get_course_groups": Obj({"courseid": P("int")}),
    "core_group_create_groups": Obj(
        {
            "groups": Lst(
                Obj(
                    {
                        "courseid": P("int"),
                        "name": P("text"),
                        "description": P("raw"),
                        "descriptionformat": _dflt("int", 1),
                        "enrolmentkey": _opt("raw"),
                        "idnumber": _opt("raw"),
                        "visibility": _opt("int"),
                        "participation": _opt("bool"),
                        "customfields": Lst(
                            Obj({"shortname": P("alphanumext"), "value": P("raw")}), "optional"
                        ),
                    }
                )
            )
        }
    ),
    "core_group_add_group_members": Obj(
        {"members": Lst(Obj({"groupid": P("int"), "userid": P("int")}))}
    ),
    "core_cohort_get_cohort_members": Obj({"cohortids": Lst(P("int"))}),
    "core_role_assign_roles": Obj(
        {
            "assignments": Lst(
                Obj(
                    {
                        "roleid": P("int"),
                        "userid": P("int"),
                        "contextid": _opt("int"),
                        "contextlevel": _opt("alpha"),
                        "instanceid": _opt("int"),
                    }
                )
            )
        }
    ),
    "mod_feedback_get_feedbacks_by_courses": Obj({"courseids": Lst(P("int"), "default")}),
    "mod_feedback_get_feedback_access_information": _FEEDBACK,
    "mod_feedback_get_items": _FEEDBACK,
    "mod_feedback_get_non_respondents": Obj(
        {
            "feedbackid": P("int"),
            "groupid": _dflt("int", 0),
            "sort": _dflt("alpha", "lastaccess"),
            "page": _dflt("int", 0),
            "perpage": _dflt("int", 0),
            "courseid": _dflt("int", 0),
        }
    ),
    "mod_feedback_get_responses_analysis": Obj(
        {
            "feedbackid": P("int"),
            "groupid": _dflt("int", 0),
            "page": _dflt("int", 0),
            "perpage": _dflt("int", 0),
            "courseid": _dflt("int", 0),
        }
    ),
    "mod_feedback_get_analysis": Obj(
        {"feedbackid": P("int"), "groupid": _dflt("int", 0), "courseid": _dflt("int", 0)}
    ),
    "local_buyin_request_signoffs": Obj(
        {"requests": Lst(Obj({"courseid": P("int"), "userid": P("int"), "managerid": P("int")}))}
    ),
    "local_buyin_get_signoffs": Obj(
        {
            "since": P("int"),
            "courseid": _dflt("int", 0),
            "limitfrom": _dflt("int", 0),
            "limitnumber": _dflt("int", 500),
            "afterid": _dflt("int", 0),
        }
    ),
    "local_buyin_get_progress": Obj(
        {
            "courseid": P("int"),
            "quizids": Lst(P("int"), need="default"),
            "since": _dflt("int", 0),
            "cursor": _dflt("int", 0),
            "limit": _dflt("int", 500),
            "profilefields": Lst(P("alphanumext"), need="default"),
        }
    ),
    "local_buyin_complete_activities": Obj(
        {"items": Lst(Obj({"userid": P("int"), "cmid": P("int"), "newstate": P("int")}))}
    ),
    "local_buyin_save_figures": Obj(
        {
            "items": Lst(
                Obj(
                    {
                        "courseid": P("int"),
                        "userid": P("int"),
                        "role": P("alpha"),
                        "managerid": _dflt("int", 0),
                        "figures": P("raw"),
                    }
                )
            )
        }
    ),
    "local_buyin_acquire_lease": Obj(
        {
            "programme": P("alphanumext"),
            "holder": P("text"),
            "seconds": P("int"),
            "token": _dflt("alphanum", ""),
            "expected": _dflt("alphanum", ""),
        }
    ),
    "local_buyin_release_lease": Obj(
        {"programme": P("alphanumext"), "holder": P("text"), "force": _dflt("bool", False)}
    ),
    "local_buyin_get_non_respondents": Obj({"feedbackid": P("int")}),
    "local_buyin_send_notifications": Obj(
        {
            "sender": _dflt("username", ""),
            "notifications": Lst(
                Obj(
                    {
                        "idempotencykey": P("alphanumext"),
                        "userid": P("int"),
                        "kind": P("alpha"),
                        "template": P("text"),
                        "data": P("raw"),
                    }
                )
            ),
        }
    ),
    "local_buyin_record_signoff": Obj(
        {
            "courseid": P("int"),
            "userid": P("int"),
            "decision": P("alpha"),
            "comment": _dflt("text", ""),
        }
    ),
}
