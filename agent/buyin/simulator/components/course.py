"""core_course: courses and their contents (sections, modules, completion data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import logic
from ..errors import invalid
from ..lookups import course_activities, get_course
from ..model import Activity, Course
from .completion import completion_data

if TYPE_CHECKING:
    from ..site import SimulatedMoodle


MODULE_INFO: dict[str, tuple[str, str, str]] = {
    # modname: (purpose, plural, customdata)
    "quiz": (
        "assessment",
        "Quizzes",
        '{"customcompletionrules":{"completionpassorattemptsexhausted":[],"completionminattempts":"0"}}',
    ),
    "page": ("content", "Pages", '""'),
    "url": ("content", "URLs", '{"display":4,"filtericon":true}'),
}


def _course_dict(site: SimulatedMoodle, course: Course) -> dict[str, Any]:
    category = site.state.categories.get(course.category)
    return {
        "id": course.id,
        "fullname": course.fullname,
        "displayname": course.fullname,
        "shortname": course.shortname,
        "courseimage": f"{site.url}/pluginfile.php/{course.contextid}/course/generated/course.svg",
        "categoryid": course.category,
        "categoryname": category.name if category else "",
        "sortorder": course.sortorder,
        "summary": course.summary,
        "summaryformat": 1,
        "summaryfiles": [],
        "overviewfiles": [],
        "showactivitydates": False,
        "showcompletionconditions": True,
        "contacts": [],
        "enrollmentmethods": ["manual"],
        "idnumber": course.idnumber,
        "format": "topics",
        "showgrades": 1,
        "newsitems": 0,
        "startdate": course.startdate,
        "enddate": 0,
        "maxbytes": 0,
        "showreports": 0,
        "visible": 1,
        "groupmode": course.groupmode,
        "groupmodeforce": 0,
        "defaultgroupingid": 0,
        "enablecompletion": course.enablecompletion,
        "completionnotify": 0,
        "lang": "",
        "theme": "",
        "marker": 0,
        "legacyfiles": 0,
        "calendartype": "",
        "timecreated": course.timecreated,
        "timemodified": course.timecreated,
        "requested": 0,
        "cacherev": course.cacherev,
        "filters": [
            {"filter": name, "localstate": 0, "inheritedstate": 1}
            for name in (
                "displayh5p",
                "activitynames",
                "mathjaxloader",
                "emoticon",
                "urltolink",
                "mediaplugin",
            )
        ],
        "courseformatoptions": [
            {"name": "hiddensections", "value": 1},
            {"name": "coursedisplay", "value": 0},
            {"name": "indentation", "value": "1"},
        ],
    }


def get_courses_by_field(site: SimulatedMoodle, field: str, value: str) -> dict[str, Any]:
    courses = sorted(site.state.courses.values(), key=lambda c: c.id)
    if field == "":
        selected = courses
    elif field == "id":
        selected = [c for c in courses if str(c.id) == value]
    elif field == "ids":
        wanted = {v.strip() for v in value.split(",")}
        selected = [c for c in courses if str(c.id) in wanted]
    elif field == "shortname":
        selected = [c for c in courses if c.shortname == value]
    elif field == "idnumber":
        selected = [c for c in courses if c.idnumber == value]
    elif field == "category":
        selected = [c for c in courses if str(c.category) == value]
    elif field == "sectionid":
        ids = {s.course for s in site.state.sections if str(s.id) == value}
        selected = [c for c in courses if c.id in ids]
    else:
        raise invalid("Invalid field name")
    return {
        "courses": [
            _course_dict(site, c) for c in selected if c.id not in site.inaccessible_courses
        ],
        "warnings": [],
    }


def _module_dict(
    site: SimulatedMoodle, activity: Activity, excludecontents: bool
) -> dict[str, Any]:
    purpose, plural, customdata = MODULE_INFO.get(
        activity.modname, ("content", activity.modname, '""')
    )
    module: dict[str, Any] = {
        "id": activity.cmid,
        "url": f"{site.url}/mod/{activity.modname}/view.php?id={activity.cmid}",
        "name": activity.name,
        "instance": activity.instance,
        "contextid": activity.contextid,
        "visible": 1,
        "uservisible": True,
        "visibleoncoursepage": 1,
        "modicon": f"{site.url}/theme/image.php/boost/{activity.modname}/{site.themerev}/monologo?filtericon=1",
        "modname": activity.modname,
        "purpose": purpose,
        "branded": False,
        "modplural": plural,
        "availability": None,
        "indent": 0,
        "onclick": "",
        "afterlink": None,
        "customdata": customdata,
        "noviewlink": False,
        "completion": activity.completion,
    }
    if activity.completion:
        tracked = logic.is_tracked(site.state, site.state.agent_userid, activity.course)
        module["completiondata"] = completion_data(site, activity, site.state.agent_userid, tracked)
    module.update({"downloadcontent": 1, "dates": [], "groupmode": 0})
    modified = site.state.courses[activity.course].timecreated
    content: dict[str, Any] | None = None
    if activity.modname == "page":
        content = {
            "type": "file",
            "filename": "index.html",
            "filepath": "/",
            "filesize": 0,
            "fileurl": f"{site.url}/webservice/pluginfile.php/{activity.contextid}/mod_page/content/index.html?forcedownload=1",
            "timecreated": None,
            "timemodified": modified,
            "sortorder": 1,
            "userid": None,
            "author": None,
            "license": None,
        }
    elif activity.modname == "url":
        content = {
            "type": "url",
            "filename": activity.name,
            "filepath": None,
            "filesize": 0,
            "fileurl": activity.externalurl,
            "timecreated": None,
            "timemodified": modified,
            "sortorder": None,
            "userid": None,
            "author": None,
            "license": None,
        }
    if content is not None:
        module["contents"] = [] if excludecontents else [content]
        module["contentsinfo"] = {
            "filescount": 1,
            "filessize": 0,
            "lastmodified": modified,
            "mimetypes": [],
            "repositorytype": "",
        }
    return module


def get_contents(
    site: SimulatedMoodle, courseid: int, options: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    get_course(site, courseid)
    opts = {o["name"].lower(): o["value"] for o in options}

    def flag(name: str) -> bool:
        return str(opts.get(name, "0")).strip() not in ("", "0", "false")

    def number(name: str) -> int | None:
        if name not in opts:
            return None
        try:
            return int(str(opts[name]))
        except ValueError:
            raise invalid(f"{name} => Invalid parameter value detected") from None

    sectionid, sectionnumber, cmid = (
        number("sectionid"),
        number("sectionnumber"),
        number("cmid"),
    )
    modname = opts.get("modname")
    result = []
    for section in sorted(
        (s for s in site.state.sections if s.course == courseid), key=lambda s: s.section
    ):
        if sectionid is not None and section.id != sectionid:
            continue
        if sectionnumber is not None and section.section != sectionnumber:
            continue
        modules = []
        if not flag("excludemodules"):
            for activity in course_activities(site, courseid):
                if activity.section != section.section:
                    continue
                if cmid is not None and activity.cmid != cmid:
                    continue
                if modname is not None and activity.modname != modname:
                    continue
                modules.append(_module_dict(site, activity, flag("excludecontents")))
        result.append(
            {
                "id": section.id,
                "name": section.name,
                "visible": 1,
                "summary": section.summary,
                "summaryformat": 1,
                "section": section.section,
                "hiddenbynumsections": 0,
                "uservisible": True,
                "component": None,
                "itemid": None,
                "modules": modules,
            }
        )
    return result
