"""The one renderer: a message intent (template id and data) → summary and HTML text.

Every value from the data is HTML-escaped before it is filled in (messages are sent
as HTML, textformat 1); only what this module builds itself (lists, links) goes in
as HTML. The words come from :mod:`buyin.messages.templates`, with the programme's
overrides on top. Standard library and the model only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from buyin.messages.templates import LANGUAGES
from buyin.model.actions import MessageParams
from buyin.model.clock import DAY, HOUR


class _Escaped(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays as written


class Words:
    """One template's fragments (the programme's overrides first), filled on demand."""

    def __init__(
        self, template: str, language: str, own: Mapping[str, str], zone: tzinfo = UTC
    ) -> None:
        table = LANGUAGES[language]
        #: the reader's time zone: the days a message names are theirs
        self.zone = zone
        if template not in table:
            raise KeyError(f"no message template {template!r} in language {language!r}")
        self.common = table["common"]
        self.fragments = {**table[template], **own}

    def __call__(
        self, fragment_name: str, /, raw: Mapping[str, str] | None = None, **values: Any
    ) -> str:
        """The fragment ``fragment_name`` with ``values`` escaped and ``raw`` HTML as is."""
        fragment = self.fragments.get(fragment_name, self.common.get(fragment_name))
        if fragment is None:
            raise KeyError(f"message fragment {fragment_name!r} is missing from the templates")
        filled = _Escaped({k: html.escape(str(v)) for k, v in values.items()})
        filled.update(raw or {})
        return fragment.format_map(filled)

    def plain(self, name: str, **values: Any) -> str:
        """A fragment for people reading a plan (no HTML)."""
        fragment = self.fragments.get(name, self.common.get(name))
        if fragment is None:
            raise KeyError(f"message fragment {name!r} is missing from the templates")
        return fragment.format_map(_Escaped({k: str(v) for k, v in values.items()}))

    # -- helpers ------------------------------------------------------------------

    def html_list(self, items: list[str]) -> str:
        return self("list", raw={"items": "".join(self("item", raw={"item": i}) for i in items)})

    def link(self, target: Mapping[str, Any]) -> str:
        """A link to ``{"url", "name"}``."""
        url = html.escape(str(target["url"]), quote=True)
        return f'<a href="{url}">{html.escape(str(target["name"]))}</a>'

    def percent(self, fraction: float) -> str:
        return self("percent", value=round(fraction * 100))

    def date(self, ts: int) -> str:
        """A day in words ("Monday 9 November 2026": no zero-padded day)."""
        moment = datetime.fromtimestamp(ts, self.zone)
        return self(
            "date",
            weekday=self.common["weekdays"].split()[moment.weekday()],
            day=moment.day,
            month=self.common["months"].split()[moment.month - 1],
            year=moment.year,
        )

    def ago(self, seconds: float) -> str:
        days = int(seconds // DAY)
        if days >= 2:
            return self("days", n=days)
        if days == 1:
            return self("one_day")
        hours = int(seconds // HOUR)
        return self("hours", n=hours) if hours != 1 else self("one_hour")

    def duration(self, minutes: float) -> str:
        hours, mins = divmod(round(minutes), 60)
        if hours and mins:
            return self("hours_minutes", h=hours, m=mins)
        return self("hours_only", h=hours) if hours else self("minutes_only", m=mins)


Data = Mapping[str, Any]
Composer = Callable[[Words, Data], tuple[str, str]]


def _precheck(w: Words, d: Data) -> tuple[str, str]:
    values = {
        "firstname": d["firstname"],
        "course": d["course"]["name"],
        "quiz": w("no_quiz") if d.get("quiz") is None else d["quiz"],
        "passmark": w.percent(d["passmark"]),
    }
    # only what this attempt completed is said to be completed
    done = [t for t in d["completed"] if t["activities"]]
    known = [t for t in d["completed"] if not t["activities"]]
    parts = [w("intro", **values)]
    if done:
        items = [
            w(
                "topic_done",
                raw={"activities": ", ".join(w.link(a) for a in t["activities"])},
                topic=t["topic"],
                score=w.percent(t["score"]),
            )
            for t in done
        ]
        parts.append(w("tested_out", raw={"topics": w.html_list(items)}, **values))
    if known:
        items = [w("topic_known", topic=t["topic"], score=w.percent(t["score"])) for t in known]
        parts.append(w("known", raw={"topics": ", ".join(items)}, **values))
    if not d["completed"]:
        parts.append(w("nothing_tested_out", **values))
    if d["focus"]:
        items = [
            w("topic_focus", topic=t["topic"], score=w.percent(t["score"])) for t in d["focus"]
        ]
        parts.append(w("focus", raw={"topics": w.html_list(items)}, **values))
    closing = "closing" if d.get("left", 1) else "closing_done"
    parts.append(w(closing, raw={"courselink": w.link(d["course"])}, **values))
    return w.plain("summary"), "".join(parts)


def _precheck_completed(w: Words, d: Data) -> tuple[str, str]:
    """A pre-check taken before the start line: only what was completed for them now."""
    items = [
        w(
            "topic_done",
            raw={"activities": ", ".join(w.link(a) for a in t["activities"])},
            topic=t["topic"],
            score=w.percent(t["score"]),
        )
        for t in d["completed"]
        if t["activities"]
    ]
    text = w(
        "body",
        raw={"topics": w.html_list(items), "courselink": w.link(d["course"])},
        firstname=d["firstname"],
        quiz=w("no_quiz") if d.get("quiz") is None else d["quiz"],
        course=d["course"]["name"],
        date=w.date(int(d["taken"])),
    )
    closing = "closing" if d.get("left", 1) else "closing_done"
    text += w(closing, raw={"courselink": w.link(d["course"])})
    return w.plain("summary"), text


def _kickoff_learner(w: Words, d: Data) -> tuple[str, str]:
    sponsor = ""
    if d.get("sponsor_message"):
        signature = w("signature", sponsor=d["sponsor"]) if d.get("sponsor") else ""
        sponsor = w("sponsor", raw={"signature": signature}, message=d["sponsor_message"])
    text = w(
        "body",
        raw={"courselink": w.link(d["course"]), "sponsor": sponsor},
        firstname=d["firstname"],
        manager=w("no_manager") if d.get("manager") is None else d["manager"],
        course=d["course"]["name"],
    )
    return w.plain("summary"), text


def _kickoff_manager(w: Words, d: Data) -> tuple[str, str]:
    tips = list(d.get("tips") or ()) or [w("tip1"), w("tip2"), w("tip3")]
    count = len(d["learners"])
    text = w(
        "body",
        raw={
            "courselink": w.link(d["course"]),
            "learners": w.html_list([html.escape(name) for name in d["learners"]]),
        },
        firstname=d["firstname"],
        count=count,
    )
    text += w("tips_intro", raw={"tips": w.html_list([html.escape(t) for t in tips[:3]])})
    text += _plugin_pages(w, d)
    return w.plain("summary", count=count), text


def _signoff_digest(w: Words, d: Data) -> tuple[str, str]:
    now = int(d["now"])

    def line(p: Mapping[str, Any]) -> str:
        # their name opens their own request where the page can show it
        name = w.link({"url": p["request"], "name": p["name"]}) if p.get("request") else None
        out = w(
            "learner",
            raw={"name": name} if name else None,
            name=p["name"],
            ago=w.ago(now - int(p["since"])),
        )
        if p.get("asked"):
            out += w("asked", ago=w.ago(now - int(p["asked"])))
        return out

    def confirms(p: Mapping[str, Any]) -> str:
        """The learner's line with what the manager confirms by signing."""
        out = line(p)
        if p.get("tested_out"):
            topics = ", ".join(
                w("topic_score", topic=t["topic"], score=w.percent(t["score"]))
                for t in p["tested_out"]
            )
            out += w("tested_out", raw={"topics": topics})
        if p.get("post") is not None:
            out += w("post", score=w.percent(float(p["post"])))
        return out

    parts = [w("greeting", firstname=d["firstname"])]
    own = d["own"]
    if own:
        heading = "reminded" if d["reminder"] else "own"
        parts.append(
            w(
                heading + ("_one" if len(own) == 1 else "_many"),
                raw={"reminder": "", "learners": w.html_list([confirms(p) for p in own])},
                count=len(own),
                course=d["course"]["name"],
            )
        )
    if d["escalated"]:
        items = [
            w("escalated_learner", raw={"line": line(p)}, manager=p["manager"])
            for p in d["escalated"]
        ]
        parts.append(
            w(
                "escalated_one" if len(items) == 1 else "escalated",
                raw={"learners": w.html_list(items), "courselink": w.link(d["course"])},
            )
        )
    if own:
        # only their own learners are theirs to sign (the page lists only theirs)
        parts.append(w("confirm_one" if len(own) == 1 else "confirm"))
        page = {"url": d["link"]["url"], "name": w.plain("page." + d["link"]["page"])}
        parts.append(w("sign", raw={"link": w.link(page)}))
        if d.get("can_reject"):
            parts.append(w("reject"))
        if d.get("needs_role"):
            parts.append(w("needs_role", course=d["course"]["name"]))
    key = "summary_reminder" if d["reminder"] else "summary" if own else "summary_overdue"
    summary = w.plain(key + ("_one" if d["count"] == 1 else ""), count=d["count"])
    return summary, "".join(parts)


def _signoff_signed(w: Words, d: Data) -> tuple[str, str]:
    text = w(
        "body",
        raw={"courselink": w.link(d["course"])},
        firstname=d["firstname"],
        who=w("no_signer") if d.get("who") is None else d["who"],
    )
    return w.plain("summary"), text


def _plugin_pages(w: Words, d: Data) -> str:
    """The line linking local_buyin's My results or My team, where the data names it."""
    if d.get("results"):
        page = {"url": d["results"]["url"], "name": w.plain("results_link")}
        return w("results", raw={"link": w.link(page)})
    if d.get("team"):
        page = {"url": d["team"]["url"], "name": w.plain("team_link")}
        return w("team", raw={"link": w.link(page)})
    return ""


def _signoff_rejected(w: Words, d: Data) -> tuple[str, str]:
    who = w("no_signer") if d.get("who") is None else d["who"]
    comment = w("comment", who=who, comment=d["comment"]) if d.get("comment") else w("no_comment")
    results = {"url": d["results"]["url"], "name": w.plain("results")}
    text = w(
        "body",
        raw={"courselink": w.link(d["course"]), "comment": comment, "resultslink": w.link(results)},
        firstname=d["firstname"],
        who=who,
    )
    return w.plain("summary"), text


def _job_aid(w: Words, d: Data) -> tuple[str, str]:
    aid = d["aid"]
    text = w(
        "body_more" if d.get("more") else "body",
        raw={
            "courselink": w.link(d["course"]),
            "aidlink": w.link({"url": aid["url"], "name": aid["title"]}),
        },
        firstname=d["firstname"],
    )
    if aid.get("takeaway"):
        text += w("takeaway", takeaway=aid["takeaway"])
    return w.plain("summary"), text


def _refresher_open(w: Words, d: Data) -> tuple[str, str]:
    text = w("body", raw={"refresherlink": w.link(d["refresher"])}, firstname=d["firstname"])
    return w.plain("summary"), text


def _manager_note(w: Words, d: Data) -> tuple[str, str]:
    opens = d.get("refresher_opens")
    when = ""
    if opens:
        past = int(opens) <= int(d.get("now", 0))
        when = w("when_past" if past else "when", date=w.date(int(opens)))
    text = w(
        "body",
        raw={"courselink": w.link(d["course"]), "when": when},
        firstname=d["firstname"],
        learner=d["learner"],
    )
    text += _plugin_pages(w, d)
    return w.plain("summary", learner=d["learner"]), text


def _insights_complete(w: Words, d: Data) -> tuple[str, str]:
    """What they gained: only from a post-assessment, a refresher score or time saved."""
    pre: Mapping[str, float] = d["pre"]
    post: Mapping[str, float] = d["post"]
    passmark = float(d.get("passmark", 0.8))
    gained = bool(post) or d.get("retention") is not None
    intro = ("intro" if gained else "intro_saved") + ("_more" if d.get("more") else "")
    parts = (
        []  # after another part (they completed): only what they saved follows
        if intro == "intro_saved_more"
        else [w(intro, raw={"courselink": w.link(d["course"])}, firstname=d["firstname"])]
    )
    if post:
        items = []
        for t, after in post.items():
            if t not in pre:
                items.append(w("score_line", topic=t, score=w.percent(after)))
                continue
            delta = round((after - pre[t]) * 100)
            if delta > 0:
                change = w("gain", n=delta)
            elif delta < 0:
                change = w("dip")
            else:
                change = w("steady") if after >= passmark else w("again")
            line = w("progress_line", topic=t, pre=w.percent(pre[t]), post=w.percent(after))
            items.append(w("with_change", raw={"line": line, "change": change}))
        parts.append(w("progress" if pre else "final", raw={"topics": w.html_list(items)}))
    if d.get("retention") is not None:
        parts.append(w("retention", score=w.percent(float(d["retention"]))))
    minutes, count = float(d["minutes"]), int(d["activities"])
    if minutes > 0:
        name = "saved_one" if count == 1 else "saved_many"
        parts.append(w(name, duration=w.duration(minutes), count=count))
    share = d.get("share")
    if share is not None and post:
        if share >= 0.5:
            parts.append(w("ahead", basis=w("basis.post"), share=w.percent(share)))
        else:
            parts.append(w("encourage"))
    parts.append(_plugin_pages(w, d))
    return w.plain("summary"), "".join(parts)


def _insights_team(w: Words, d: Data) -> tuple[str, str]:
    lines = []
    for m in d["members"]:
        status = w("status." + m["status"], done=m.get("done", 0), total=m.get("total", 0))
        if m.get("idle_days") is not None:
            status += w("idle", days=m["idle_days"])
        scores = m.get("scores")
        detail = (
            w(
                "post_scores" if m.get("basis") == "post" else "scores",
                raw={
                    "scores": ", ".join(
                        w("score", topic=t, score=w.percent(v)) for t, v in scores.items()
                    )
                },
            )
            if scores
            else w("no_scores")
        )
        lines.append(w("member", raw={"status": status, "detail": detail}, name=m["name"]))
    parts = [
        w(
            "intro",
            raw={"courselink": w.link(d["course"]), "members": w.html_list(lines)},
            firstname=d["firstname"],
        )
    ]
    if d["pending"]:
        words = "pending_link.plugin" if d.get("signoff_page") == "plugin" else "pending_link"
        page = {"url": d["signoff_url"], "name": w.plain(words)}
        parts.append(
            w(
                "pending",
                raw={"link": w.link(page)},
                count=len(d["pending"]),
                names=", ".join(d["pending"]),
            )
        )
    if d["stuck"]:
        parts.append(w("stuck", days=d["stuck_days"], names=", ".join(d["stuck"])))
    if d.get("team_url"):
        parts.append(_plugin_pages(w, {"team": {"url": d["team_url"]}}))
    return w.plain("summary"), "".join(parts)


def _poll_invite(w: Words, d: Data) -> tuple[str, str]:
    text = w(
        "body_one" if d["count"] == 1 else "body",
        raw={
            "courselink": w.link(d["course"]),
            "ask": w("ask", raw={"polllink": w.link(d["poll"])}),
        },
        firstname=d["firstname"],
        count=d["count"],
    )
    return w.plain("summary"), text


def _poll_remind(w: Words, d: Data) -> tuple[str, str]:
    text = w(
        "body",
        raw={"polllink": w.link(d["poll"])},
        firstname=d["firstname"],
        course=d["course"]["name"],
    )
    return w.plain("summary"), text


def _poll_answer(w: Words, d: Data) -> tuple[str, str]:
    lines = []
    for t in d["topics"]:
        pre, post = t.get("pre"), t.get("post")
        if pre is not None and post is not None:
            lines.append(w("moved", topic=t["topic"], pre=w.percent(pre), post=w.percent(post)))
        elif pre is not None:
            lines.append(w("pre", topic=t["topic"], pre=w.percent(pre)))
        else:
            lines.append(w("none", topic=t["topic"]))
    text = w(
        "intro",
        raw={"courselink": w.link(d["course"]), "topics": w.html_list(lines)},
        firstname=d["firstname"],
    )
    return w.plain("summary"), text


#: how each template's parts are put together
COMPOSERS: dict[str, Composer] = {
    "precheck.result": _precheck,
    "precheck.completed": _precheck_completed,
    "kickoff.learner": _kickoff_learner,
    "kickoff.manager": _kickoff_manager,
    "signoff.digest": _signoff_digest,
    "signoff.signed": _signoff_signed,
    "signoff.rejected": _signoff_rejected,
    "followup.job_aid": _job_aid,
    "followup.refresher_open": _refresher_open,
    "followup.manager_note": _manager_note,
    "insights.complete": _insights_complete,
    "insights.team": _insights_team,
    "poll.invite": _poll_invite,
    "poll.remind": _poll_remind,
    "poll.answer": _poll_answer,
}


def _continued(w: Words, text: str, firstname: str) -> str:
    """A part after the first of a merged message, without its own greeting."""
    greeting = "<p>" + w("hi", firstname=firstname)
    if text.startswith(greeting + "</p>"):
        return text[len(greeting) + 4 :]
    if text.startswith(greeting + " "):
        rest = text[len(greeting) + 1 :]
        return "<p>" + rest[:1].upper() + rest[1:]
    return text


def reader(data: Mapping[str, Any], language: str) -> tuple[str, tzinfo]:
    """The language and time zone a message is written in: the recipient's, where
    Moodle told them (``lang``, ``timezone``) and the agent has them; else ``language``
    and UTC (Moodle's "99", the site's default zone, is not in its web services)."""
    who = data.get("recipient") or next(
        (p["data"].get("recipient") for p in data.get("parts", ()) if p["data"].get("recipient")),
        None,
    )
    if not who:
        return language, UTC
    lang = str(who.get("lang") or "").split("_")[0]
    zone: tzinfo = UTC
    name = str(who.get("timezone") or "")
    if name and name != "99":
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
    return (lang if lang in LANGUAGES else language), zone


_PARAGRAPH = re.compile(r"<p>.*?</p>", re.S)


def _once(texts: list[str]) -> str:
    """The parts of a merged message as one text, a paragraph said by an earlier part
    (the link to My team, say) not said again."""
    seen: set[str] = set()
    out = []
    for text in texts:
        for paragraph in _PARAGRAPH.findall(text):
            if paragraph in seen:
                text = text.replace(paragraph, "", 1)
            seen.add(paragraph)
        out.append(text)
    return "".join(out)


def _inbox(
    parts: list[Mapping[str, Any]],
    own: Mapping[str, Mapping[str, str]],
    language: str,
    zone: tzinfo = UTC,
) -> tuple[str, str]:
    """Several messages for one person, as one: each part composed by its template
    (a part after the first as a continuation: no second greeting)."""
    summaries, texts = [], []
    for i, part in enumerate(parts):
        template = part["template"]
        words = Words(template, language, own.get(template, {}), zone)
        data = {**part["data"], "more": i > 0}
        summary, text = COMPOSERS[template](words, data)
        summaries.append(summary)
        texts.append(text if i == 0 else _continued(words, text, str(data.get("firstname", ""))))
    return " + ".join(summaries), _once(texts)


def render(
    params: MessageParams,
    own: Mapping[str, Mapping[str, str]] | None = None,
    *,
    language: str = "en",
) -> MessageParams:
    """``params`` with its summary and HTML text composed from its template and data.

    ``own``: the programme's overridden fragments by template id (see
    :func:`buyin.messages.templates.overrides`).
    """
    language, zone = reader(params.data, language)
    if params.template == "inbox":
        summary, text = _inbox(list(params.data["parts"]), own or {}, language, zone)
    else:
        compose = COMPOSERS.get(params.template)
        if compose is None:
            raise KeyError(f"no message template {params.template!r}")
        words = Words(params.template, language, (own or {}).get(params.template, {}), zone)
        summary, text = compose(words, params.data)
    if params.data.get("sender"):
        # Moodle sends as the token's user: the text says who it is from
        common = Words("common", language, {})
        text += common("from", sender=params.data["sender"])
    return replace(params, summary=summary, text=text)
