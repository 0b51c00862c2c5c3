"""local_buyin's notifications on a real Moodle (issue #22).

Runs against the site of ``shared/moodle/site`` with this plugin installed and its service
enabled (``site.sh plugin``, then ``site.sh php .../enable_plugin_service.php``):

    eval "$(MOODLE_SITE_DIR=... site.sh env)"
    MOODLE_SITE_DIR=... pytest -m site tests/test_site_notifications.py

Skipped without them (tests/site_support.py).
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from buyin.actions.apply import ApplyContext, send_notifications
from buyin.messages import render
from buyin.model.actions import Action, Kind, MessageParams
from buyin.moodle.client import MoodleClient
from buyin.moodle.fetch import SiteInfo
from site_support import TOKEN, URL, needs_site, php, sql

LEARNER01 = 9

pytestmark = needs_site


@pytest.fixture
def client() -> MoodleClient:
    moodle = MoodleClient(URL, TOKEN, sleep=lambda _s: None)
    SiteInfo.fetch(moodle)  # the functions in the service
    return moodle


def signed_off(firstname: str, key: str) -> Action:
    params = render(
        MessageParams(
            touserid=LEARNER01,
            template="signoff.signed",
            data={
                "firstname": firstname,
                "course": {"name": "Customer Conversations", "url": f"{URL}/course/view.php?id=2"},
                "who": "Morgan Manager",
            },
        )
    )
    return Action(
        key=key,
        kind=Kind.MESSAGE,
        program="cc101",
        userid=LEARNER01,
        target="learner01",
        params=params,
    )


def popup_notifications(tmp_path: Path) -> list[dict[str, Any]]:
    """The recipient's notification list, as the bell shows it."""
    out = php(
        tmp_path,
        "$list = \\message_popup\\api::get_popup_notifications(" + str(LEARNER01) + ");\n"
        "echo json_encode(array_values(array_map(fn($n) => ['subject' => $n->subject, "
        "'component' => $n->component, 'eventtype' => $n->eventtype, "
        "'contexturl' => $n->contexturl, 'contexturlname' => $n->contexturlname, "
        "'html' => $n->fullmessagehtml], $list)));\n",
    )
    result: list[dict[str, Any]] = json.loads(out)
    return result


def test_the_same_batch_twice_delivers_once_with_a_link_to_its_page(
    client: MoodleClient, tmp_path: Path
) -> None:
    token = uuid.uuid4().hex[:10]
    batch = [signed_off(f"Ada{token}", f"message:site-test:{token}")]
    ctx = ApplyContext(client=client, agent_userid=0)
    first = send_notifications(ctx, batch)
    again = send_notifications(ctx, batch)
    assert [(o.error, o.attempted) for o in first] == [(None, True)]
    assert [(o.error, o.attempted) for o in again] == [(None, False)]
    mine = [n for n in popup_notifications(tmp_path) if f"Ada{token}" in n["html"]]
    assert len(mine) == 1
    [note] = mine
    assert (note["component"], note["eventtype"]) == ("local_buyin", "signoffdecision")
    assert note["contexturl"] == f"{URL}/local/buyin/myresults.php"
    assert note["contexturlname"] == "My results"
    assert note["subject"] == "Customer Conversations: your completion"
    assert "has signed off your completion of" in note["html"]
    # one key recorded, in the plugin's table
    rows = sql(
        "select count(*) from mdl_local_buyin_notification "
        f"where userid = {LEARNER01} and kind = 'signoffdecision' "
        f"and messageid in (select id from mdl_notifications where fullmessagehtml like '%Ada{token}%')"
    )
    assert rows == [["1"]]


def test_a_string_customised_in_the_local_language_pack_changes_the_words(
    client: MoodleClient, tmp_path: Path
) -> None:
    """As Site administration > Language > Language customisation saves it: the string in
    $CFG->langlocalroot/en_local/local_buyin.php, the string caches purged."""
    custom = "<p>Bravo {$a->firstname}: {$a->who} confirmed {$a->courselink}.</p>"
    path = "$CFG->langlocalroot . '/en_local/local_buyin.php'"
    write = (
        f"make_writable_directory($CFG->langlocalroot . '/en_local');\n"
        f"file_put_contents({path}, \"<?php\\n\\$string['msg:signoff.signed:body'] = \" . "
        f"var_export(base64_decode('{base64.b64encode(custom.encode()).decode()}'), true) . \";\\n\");\n"
        "get_string_manager()->reset_caches();\n"
    )
    remove = f"@unlink({path});\nget_string_manager()->reset_caches();\n"
    token = uuid.uuid4().hex[:10]
    php(tmp_path, write)
    try:
        [outcome] = send_notifications(
            ApplyContext(client=client, agent_userid=0),
            [signed_off(f"Ada{token}", f"message:site-test-custom:{token}")],
        )
    finally:
        php(tmp_path, remove)
    assert outcome.error is None
    [note] = [n for n in popup_notifications(tmp_path) if f"Ada{token}" in n["html"]]
    assert note["html"].startswith(f"<p>Bravo Ada{token}: Morgan Manager confirmed <a href=")
    assert "Congratulations" not in note["html"]


def test_privacy_finds_exports_and_deletes_a_recipients_notification_keys(
    client: MoodleClient, tmp_path: Path
) -> None:
    token = uuid.uuid4().hex[:10]
    [outcome] = send_notifications(
        ApplyContext(client=client, agent_userid=0),
        [signed_off(f"Ada{token}", f"message:site-test-privacy:{token}")],
    )
    assert outcome.error is None
    out = php(
        tmp_path,
        "use core_privacy\\local\\request\\approved_contextlist;\n"
        f"$user = core_user::get_user({LEARNER01});\n"
        "$contexts = \\local_buyin\\privacy\\provider::get_contexts_for_userid($user->id);\n"
        "$usercontext = context_user::instance($user->id);\n"
        "$found = in_array($usercontext->id, $contexts->get_contextids());\n"
        "$meta = \\local_buyin\\privacy\\provider::get_metadata("
        "new \\core_privacy\\local\\metadata\\collection('local_buyin'));\n"
        "$names = array_map(fn($i) => $i->get_name(), $meta->get_collection());\n"
        "$list = new approved_contextlist($user, 'local_buyin', [$usercontext->id]);\n"
        "\\local_buyin\\privacy\\provider::export_user_data($list);\n"
        "$zip = new ZipArchive();\n"
        "$zip->open(\\core_privacy\\local\\request\\writer::with_context($usercontext)"
        "->finalise_content());\n"
        "$exported = false;\n"
        "for ($i = 0; $i < $zip->numFiles; $i++) {\n"
        "    $exported = $exported || str_contains((string) $zip->getFromIndex($i), 'signoff.signed');\n"
        "}\n"
        "$before = $DB->count_records('local_buyin_notification', ['userid' => $user->id]);\n"
        "\\local_buyin\\privacy\\provider::delete_data_for_user($list);\n"
        "$after = $DB->count_records('local_buyin_notification', ['userid' => $user->id]);\n"
        "echo json_encode(['found' => $found, 'names' => $names, 'before' => $before, "
        "'after' => $after, 'exported' => !empty($exported)]);\n",
    )
    got = json.loads(out.strip().splitlines()[-1])
    assert got["found"] is True
    assert {"local_buyin_notification", "core_message"} <= set(got["names"])
    assert got["exported"] is True
    assert got["before"] >= 1 and got["after"] == 0
