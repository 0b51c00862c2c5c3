"""Cohorts, for reports that compare a pilot cohort with a baseline (``cohort:ID``):
asked of Moodle by the command line, never by the report loader."""

from __future__ import annotations

from buyin.errors import BuyinError
from buyin.moodle.client import MoodleClient


def fetch_cohort_members(client: MoodleClient, ids: list[int]) -> dict[int, frozenset[int]]:
    answer = client.call("core_cohort_get_cohort_members", cohortids=ids)
    return {int(c["cohortid"]): frozenset(int(u) for u in c["userids"]) for c in answer}


def fetch_cohort_names(client: MoodleClient, ids: list[int]) -> dict[int, str]:
    """Best effort: where core_cohort_get_cohorts is not in the token's service, the
    page shows the cohort's id."""
    try:
        answer = client.call("core_cohort_get_cohorts", cohortids=ids)
    except BuyinError:
        return {}
    return {int(c["id"]): str(c["name"]) for c in answer}
