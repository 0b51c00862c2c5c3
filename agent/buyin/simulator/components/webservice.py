"""core_webservice: the site information (who the token is, which functions the service holds)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..functions import service_functions
from ..lookups import picture
from ..plugin import PLUGIN_FUNCTIONS, PLUGIN_VERSION

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


ADVANCED_FEATURES: list[tuple[str, int]] = [
    ("usecomments", 1),
    ("usetags", 1),
    ("enablenotes", 1),
    ("messaging", 1),
    ("enableblogs", 1),
    ("enablecompletion", 1),
    ("enablebadges", 1),
    ("messagingallusers", 0),
    ("enablecustomreports", 1),
    ("enableglobalsearch", 0),
    ("mnet_dispatcher_mode", 0),
    ("enablecompetencies", 1),
]


def get_site_info(site: SimulatedMoodle, serviceshortnames: list[str]) -> dict[str, Any]:
    agent = site.state.users[site.state.agent_userid]
    functions = [
        {
            "name": name,
            "version": PLUGIN_VERSION
            if name in PLUGIN_FUNCTIONS or name.startswith("local_buyin_")
            else site.state.version
            if name.startswith("core_")
            else site.state.version.split(".")[0],
        }
        for name in _ordered_service_functions(site)
    ]
    return {
        "sitename": site.state.site_name,
        "username": agent.username,
        "firstname": agent.firstname,
        "lastname": agent.lastname,
        "fullname": agent.fullname,
        "lang": "en",
        "userid": agent.id,
        "siteurl": site.url,
        "userpictureurl": picture(site),
        "functions": functions,
        # the lab's buyin service allowed file downloads; local_buyin's predefined service
        # (the token's, once the plugin is installed) does not (db/services.php)
        "downloadfiles": 0 if "local_buyin_get_progress" in site.service_functions else 1,
        "uploadfiles": 0,
        "release": site.state.release,
        "version": site.state.version,
        "mobilecssurl": "",
        "advancedfeatures": [{"name": n, "value": v} for n, v in ADVANCED_FEATURES],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 67108864,
        "userhomepage": 1,
        "userprivateaccesskey": hashlib.sha256(("key:" + site.token).encode()).hexdigest()[:32],
        "siteid": 1,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": False,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }


def _ordered_service_functions(site: SimulatedMoodle) -> list[str]:
    order = service_functions()
    known = [f for f in order if f in site.service_functions]
    return known + sorted(f for f in site.service_functions if f not in order)
