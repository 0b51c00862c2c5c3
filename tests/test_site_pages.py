"""local_buyin's pages on a real Moodle, as a learner and a manager would see them
(issues #22 and #23); the site and its env as in tests/site_support.py.

Expects the scenario after one plugin-path sync (``buyin sync`` with the plugin token), so
that learners have figures and managers requests.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from site_support import URL, login, needs_site, site
from support import REPO

pytestmark = needs_site
LEARNER = ("learner01", os.environ.get("MOODLE_LEARNER_PASSWORD", ""))


def manager_with_a_request() -> tuple[str, str]:
    from site_support import sql

    rows = sql(
        "select u.username from mdl_local_buyin_signoff s join mdl_user u on u.id = s.managerid "
        "where s.status = 'requested' order by s.id limit 1"
    )
    if not rows:
        pytest.skip("no sign-off request waits on the site: run a plugin-path sync first")
    return rows[0][0], os.environ.get("MOODLE_MANAGER_PASSWORD", "")


def test_my_team_and_sign_off_requests_read_the_same_for_3_and_300() -> None:
    """The data of each page in a fixed number of queries whatever the team's size
    ($DB->perf_get_reads() around the page's export_for_template)."""
    out = site("php", str(REPO / "tests/fixtures/site/page_queries.php"))
    counts = json.loads(out.strip().splitlines()[-1])
    for page in ("my_team", "signoff_list"):
        small, large = counts[page]["3"], counts[page]["300"]
        assert (small["shown"], large["shown"]) == (3, 300), page
        assert small["reads"] == large["reads"], f"{page}: {small} against {large}"
        assert small["reads"] <= 10, page


def test_my_results_speaks_plainly_and_never_ranks_on_the_pre_check() -> None:
    page = login(*LEARNER).get(f"{URL}/local/buyin/myresults.php", timeout=30).text
    assert "Customer Conversations" in page
    text = re.sub(r"<[^>]+>", " ", page)
    assert "ahead of" not in text or "post-assessment you are ahead" in text
    assert " 1 activities" not in text and not re.search(r"\d %", text)
    assert re.search(r"All \d+ activities done|\d+ of \d+ activities done", text)


def test_my_teams_button_opens_that_learners_request() -> None:
    username, password = manager_with_a_request()
    session = login(username, password)
    team = session.get(f"{URL}/local/buyin/myteam.php", timeout=30).text
    buttons = re.findall(r'href="([^"]*/local/buyin/index.php\?requestid=\d+)"', team)
    assert buttons, "no Sign off button opens a request"
    request = session.get(buttons[0].replace("&amp;", "&"), timeout=30).text
    assert "What you confirm" in request
    assert "criteria" not in re.sub(r"<[^>]+>", " ", request)
    assert re.search(r"All \d+ activities done|\d+ of \d+ activities done|requirement", request)
    # the pages link to each other
    assert "/local/buyin/myteam.php" in request and "/local/buyin/index.php" in team


def test_sending_a_request_back_needs_a_word_on_what_is_missing() -> None:
    username, password = manager_with_a_request()
    session = login(username, password)
    listing = session.get(f"{URL}/local/buyin/index.php", timeout=30).text
    [url, *_] = re.findall(r'href="([^"]*/local/buyin/index.php\?requestid=\d+)"', listing)
    form = session.get(url.replace("&amp;", "&"), timeout=30).text
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields.update({"comment": "", "reject": "Not yet: needs more work"})
    fields.pop("signoff", None)
    answer = session.post(url.replace("&amp;", "&"), data=fields, timeout=30).text
    assert "Say what is still missing: the learner reads it." in answer


def test_each_mobile_handler_returns_its_template() -> None:
    """db/mobile.php's handlers, called as the app calls them (tool_mobile_get_content)."""
    out = site("php", str(REPO / "tests/fixtures/site/mobile_handlers.php"))
    got = json.loads(out.strip().splitlines()[-1])
    request = got["request"]
    for name in ("myresults", "myteam", "signoff", "signoff_request"):
        assert got[name]["delegate"] == "CoreMainMenuDelegate", name
        assert got[name]["templates"] == ["main"], name
        assert "<ion-" in got[name]["html"], name
        assert "<canvas" not in got[name]["html"] and "<nav" not in got[name]["html"], name
    assert "Customer Conversations" in got["myresults"]["html"]
    assert re.search(r"activities done|activity done", got["myresults"]["html"])
    # My team: the waiting report's button opens their request in the app
    assert f'[args]="{{requestid: {request["id"]}}}"' in got["myteam"]["html"]
    assert f'[args]="{{requestid: {request["id"]}}}"' in got["signoff"]["html"]
    html = got["signoff_request"]["html"]
    assert "criteria" not in html
    for decision in ("signed", "rejected"):
        assert (
            f"{{courseid: {request['courseid']}, userid: {request['userid']}, "
            f"decision: '{decision}', comment: CONTENT_OTHERDATA.comment}}"
        ) in html
    assert 'name="local_buyin_record_signoff"' in html
    assert got["signoff_request"]["otherdata"] == {"comment": ""}
    # a notification's link to a page opens it in the app: the init's link handler
    init = got["init"]
    assert "CoreContentLinksDelegate.registerHandler" in init
    assert r"/\/local\/buyin\/(myresults|myteam|index)\.php/" in init
    for method in ("mobile_my_results", "mobile_my_team", "mobile_signoff"):
        assert f'"{method}"' in init


def test_one_click_on_the_list_signs_off_through_the_form() -> None:
    from site_support import sql

    username, password = manager_with_a_request()
    session = login(username, password)
    listing = session.get(f"{URL}/local/buyin/index.php", timeout=30).text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', listing, re.S)
    assert form is not None, "no one-click sign off on the list"
    url = form.group(1).replace("&amp;", "&")
    requestid = int(url.rsplit("=", 1)[1])
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    try:
        answer = session.post(url, data=fields, timeout=30).text
        assert "You signed off the completion of" in answer
        assert sql(f"select status from mdl_local_buyin_signoff where id = {requestid}") == [
            ["signed"]
        ]
    finally:  # the request waits again, the criterion unmarked: the site as it was
        request = sql(
            f"select courseid, userid from mdl_local_buyin_signoff where id = {requestid}"
        )
        courseid, userid = request[0]
        sql(
            "update mdl_local_buyin_signoff set status = 'requested', decidedby = null, "
            f"timedecided = null, comment = null where id = {requestid}"
        )
        sql(
            "delete from mdl_course_completion_crit_compl "
            f"where course = {courseid} and userid = {userid} and criteriaid in "
            f"(select id from mdl_course_completion_criteria where course = {courseid} "
            "and criteriatype = 7)"
        )
