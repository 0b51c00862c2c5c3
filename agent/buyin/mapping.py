"""Programme mapping files: TOML validated against ``mappings/schema.json``.

An invalid file raises :class:`~buyin.errors.MappingError` naming the file and
the key path (``precheck.topics[2].slots``); nothing is pushed.
"""

from __future__ import annotations

import functools
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import jsonschema

from buyin.errors import ConfigurationError, MappingError
from buyin.model.clock import WORKING_DAYS
from buyin.model.programme import (
    Followup,
    JobAid,
    Kickoff,
    Poll,
    Precheck,
    Programme,
    Ref,
    Refresher,
    Signoff,
    Topic,
)
from buyin.resources import data_path

__all__ = [
    "Followup",
    "JobAid",
    "Kickoff",
    "Poll",
    "Precheck",
    "Programme",
    "Ref",
    "Refresher",
    "Signoff",
    "Topic",
]


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(data_path("mappings/schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def _keypath(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate_mapping(data: dict[str, Any], source: str) -> None:
    errors = sorted(
        _validator().iter_errors(data), key=lambda e: (list(e.absolute_path), e.message)
    )
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors) or errors[0]
    where = _keypath(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        problem = f"unknown key(s) {', '.join(extra)}"
        if extra:
            where = f"{where}.{extra[0]}" if where else extra[0]
    elif error.validator == "required":
        problem = error.message.replace("is a required property", "is required")
        # name the missing key itself: program.id, not program
        missing = [k for k in error.validator_value if error.message.startswith(repr(k))]
        if missing:
            where = f"{where}.{missing[0]}" if where else missing[0]
    else:
        problem = error.message
    raise MappingError(source, where, problem)


def _topics(raw: dict[str, Any], source: str) -> tuple[Topic, ...]:
    topics = []
    seen: set[str] = set()
    for index, t in enumerate(raw.get("topics", [])):
        if t["name"] in seen:
            raise MappingError(
                source, f"precheck.topics[{index}].name", f"duplicate topic {t['name']!r}"
            )
        seen.add(t["name"])
        topics.append(
            Topic(
                name=t["name"],
                grade_item=t.get("grade_item", t["name"]),
                section=t.get("section", t["name"]),
                slots=tuple(t.get("slots", ())),
                activities=tuple(t["activities"]) if "activities" in t else None,
            )
        )
    return tuple(topics)


def _poll(raw: dict[str, Any], topics: tuple[Topic, ...], source: str) -> Poll:
    names = {t.name for t in topics}
    options: dict[int, str] = {}
    for position, topic in sorted(raw["options"].items(), key=lambda kv: int(kv[0])):
        if topic not in names:
            known = ", ".join(sorted(names)) or "none: add [precheck] topics"
            raise MappingError(
                source,
                f"poll.options.{position}",
                f"topic {topic!r} is not a topic of [precheck] (topics: {known})",
            )
        options[int(position)] = topic
    return Poll(
        activity=raw["activity"],
        course=raw["course"],
        options=options,
        question=raw.get("question", "problems"),
        impact=raw.get("impact", "impact"),
        comments=raw.get("comments", "other"),
        role=raw.get("role", "student"),
        ask=raw.get("ask", "start"),
        every_weeks=float(raw["every_weeks"]) if "every_weeks" in raw else None,
        cohort_starts=tuple(sorted(raw.get("cohort_starts", ()))),
        days_before=float(raw.get("days_before", 14)),
        remind_after_days=float(raw.get("remind_after_days", 3)),
    )


def parse_mapping(data: dict[str, Any], source: Path) -> Programme:
    validate_mapping(data, str(source))
    p = data["program"]
    precheck = None
    if "precheck" in data:
        pc = data["precheck"]
        precheck = Precheck(
            quiz=pc["quiz"],
            topics=_topics(pc, str(source)),
            attempt=pc.get("attempt", "first"),
            pass_mark=float(pc.get("pass_mark", 0.8)),
            minutes_per_activity=float(pc.get("minutes_per_activity", 15)),
            exclude=frozenset(pc.get("exclude", ())),
            messages=dict(pc.get("messages", {})),
        )
    signoff = None
    if "signoff" in data:
        s = data["signoff"]
        signoff = Signoff(
            role=s.get("role", "signoff"),
            manager_field=s.get("manager_field", "manager"),
            match_by=s.get("match_by", "username"),
            fallback_approver=s.get("fallback_approver"),
            remind_every_days=float(s.get("remind_every_days", 3)),
            escalate_after_days=float(s.get("escalate_after_days", 7)),
            max_reminders=int(s.get("max_reminders", 2)),
            team_groups=bool(s.get("team_groups", False)),
            channel=s.get("channel", "auto"),
        )
    kickoff = None
    if "kickoff" in data:
        k = data["kickoff"]
        kickoff = Kickoff(
            enabled=bool(k.get("enabled", True)),
            learner_message=k.get("learner_message"),
            manager_message=k.get("manager_message"),
            support_tips=tuple(k.get("support_tips", ())),
        )
    followup = None
    if "followup" in data:
        f = data["followup"]
        job_aid = JobAid(**f["job_aid"]) if "job_aid" in f else None
        refresher = None
        if "refresher" in f:
            r = f["refresher"]
            refresher = Refresher(
                course=r["course"],
                delay_days=float(r.get("delay_days", 30)),
                duration_days=float(r["duration_days"]) if "duration_days" in r else None,
                role=r.get("role", "student"),
                notify_when_open=bool(r.get("notify_when_open", True)),
                quiz=r.get("quiz"),
            )
        followup = Followup(
            job_aid=job_aid, refresher=refresher, notify_manager=bool(f.get("notify_manager", True))
        )
    poll = None
    if "poll" in data:
        poll = _poll(data["poll"], precheck.topics if precheck else (), str(source))
    return Programme(
        id=p["id"],
        course=p["course"],
        source=source,
        name=p.get("name", ""),
        enabled=bool(p.get("enabled", True)),
        learner_role=p.get("learner_role", "student"),
        mapped_since=p.get("mapped_since"),
        working_days=tuple(p.get("working_days", WORKING_DAYS)),
        holidays=tuple(p.get("holidays", ())),
        manager_weekly_limit=int(p.get("manager_weekly_limit", 2)),
        sender=p.get("sender", ""),
        sponsor=p.get("sponsor", ""),
        sponsor_message=p.get("sponsor_message", ""),
        precheck=precheck,
        signoff=signoff,
        kickoff=kickoff,
        followup=followup,
        poll=poll,
        insights=dict(data.get("insights", {})),
        raw=data,
    )


def load_mapping(path: Path) -> Programme:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise MappingError(str(path), "", f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(str(path), "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(str(path), "", f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise MappingError(str(path), "", "tables or arrays nested too deeply") from None
    _refuse_odd_values(data, str(path))
    return parse_mapping(data, path)


#: a mapping is a few levels deep; deeper is a mistake (and would exhaust the validator)
MAX_DEPTH = 12


def _refuse_odd_values(value: Any, source: str, where: str = "", depth: int = 0) -> None:
    """No NaN or infinity anywhere, and no absurd nesting (the schema bounds the rest)."""
    if depth > MAX_DEPTH:
        raise MappingError(source, where, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, float) and not math.isfinite(value):
        raise MappingError(source, where, f"{value} is not a number the mapping accepts")
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        inner = f"{where}[{key}]" if isinstance(key, int) else (f"{where}.{key}" if where else key)
        _refuse_odd_values(child, source, inner, depth + 1)


def load_programmes(directory: Path, only: str | None = None) -> list[Programme]:
    """Every programme in the mapping directory, validated all at once (all or nothing)."""
    if not directory.is_dir():
        raise ConfigurationError(
            f"mapping directory {directory} does not exist",
            hint="Set mapping_dir (BUYIN_MAPPINGS) to the directory of your programme *.toml files.",
        )
    programmes = [load_mapping(p) for p in sorted(directory.glob("*.toml"))]
    seen: dict[str, Path] = {}
    for prog in programmes:
        if prog.id in seen:
            raise MappingError(
                str(prog.source), "program.id", f"id {prog.id!r} is also used by {seen[prog.id]}"
            )
        seen[prog.id] = prog.source
    if only is not None:
        programmes = [p for p in programmes if p.id == only]
        if not programmes:
            raise ConfigurationError(
                f"no programme with id {only!r} in {directory}",
                hint="Known ids: " + (", ".join(sorted(seen)) or "none"),
            )
    if not programmes:
        raise ConfigurationError(
            f"no programme mapping (*.toml) in {directory}",
            hint="Write one (see mappings/examples/) or run `buyin init COURSE`.",
        )
    return [p for p in programmes if p.enabled]
