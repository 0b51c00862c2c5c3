"""core_cohort: cohort members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lookups import missing

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


def get_cohort_members(site: SimulatedMoodle, cohortids: list[int]) -> list[dict[str, Any]]:
    result = []
    for cid in cohortids:
        cohort = site.state.cohorts.get(cid)
        if cohort is None:
            raise missing(site, "cohort", cid)
        result.append({"cohortid": cohort.id, "userids": list(cohort.members)})
    return result
