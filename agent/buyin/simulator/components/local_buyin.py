"""local_buyin (the agent's own plugin, once installed): sign-off requests,
their changes, decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lookups import missing

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def request_signoffs(site: SimulatedMoodle, requests: list[dict[str, Any]]) -> dict[str, Any]:
    now = site.time()
    out = []
    warnings = []
    for item in requests:
        if (item["userid"], item["courseid"]) not in site.state.enrolments:
            warnings.append(
                {
                    "item": "user",
                    "itemid": item["userid"],
                    "warningcode": "notenrolled",
                    "message": "The learner is not enrolled in the course",
                }
            )
            continue
        out.append(
            site.plugin.upsert(item["courseid"], item["userid"], item["managerid"], now).brief()
        )
    return {"requests": out, "warnings": warnings}


def get_signoffs(
    site: SimulatedMoodle, since: int, courseid: int, limitfrom: int, limitnumber: int
) -> dict[str, Any]:
    rows, more = site.plugin.changes(since, courseid, limitfrom, limitnumber)
    return {"signoffs": [r.full() for r in rows], "hasmore": more, "warnings": []}


def record_signoff(
    site: SimulatedMoodle, courseid: int, userid: int, decision: str, comment: str
) -> dict[str, Any]:
    request = site.plugin.requests.get((courseid, userid))
    if request is None:
        raise missing(site, "local_buyin_signoff", userid)
    site.plugin_decide(userid, courseid, request.managerid, decision, comment)
    return {"status": True, "signoff": request.full(), "warnings": []}
