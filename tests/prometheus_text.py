"""A strict reader of the Prometheus text exposition format (version 0.0.4), for tests.

It refuses what a scraper would choke on or silently misread: a sample before its
``# TYPE``, a family split in two, a repeated series, a malformed label set or value, and
histograms whose buckets are not cumulative or disagree with their ``_count``.
"""

from __future__ import annotations

import math
import re

import attrs

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(
    rf"^(?P<name>{_NAME})(?:\{{(?P<labels>{_LABEL}(?:,{_LABEL})*)?\}})? (?P<value>\S+)$"
)
_LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

Labels = tuple[tuple[str, str], ...]


class ExpositionError(ValueError):
    pass


@attrs.define
class Family:
    name: str
    kind: str
    help: str | None = None
    samples: dict[tuple[str, Labels], float] = attrs.field(factory=dict)


def parse_exposition(text: str) -> dict[str, Family]:
    """Every metric family on the page, by name; ``ExpositionError`` says what is wrong."""
    if not text.endswith("\n"):
        raise ExpositionError("the page must end with a newline")
    families: dict[str, Family] = {}
    helps: dict[str, str] = {}
    current: Family | None = None
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}: {line!r}"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            if name in helps or name in families:
                raise ExpositionError(f"{where}: HELP repeated or after the family's samples")
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            if kind not in _TYPES or not re.fullmatch(_NAME, name):
                raise ExpositionError(f"{where}: bad TYPE line")
            if name in families:
                raise ExpositionError(f"{where}: family declared twice")
            current = families[name] = Family(name, kind, helps.get(name))
        elif line.startswith("#") or not line:
            raise ExpositionError(f"{where}: unexpected line")
        else:
            match = _SAMPLE.match(line)
            if match is None:
                raise ExpositionError(f"{where}: not a sample")
            name = match["name"]
            if current is None or not _belongs(name, current):
                raise ExpositionError(f"{where}: sample outside its family's block")
            labels = tuple(_LABEL_PAIR.findall(match["labels"] or ""))
            try:
                value = float(match["value"])
            except ValueError as exc:
                raise ExpositionError(f"{where}: bad value") from exc
            if (name, labels) in current.samples:
                raise ExpositionError(f"{where}: repeated series")
            current.samples[(name, labels)] = value
    for family in families.values():
        if family.kind == "histogram":
            _check_histogram(family)
    return families


def _belongs(name: str, family: Family) -> bool:
    if family.kind == "histogram":
        return name in (family.name + suffix for suffix in _HISTOGRAM_SUFFIXES)
    return name == family.name


def _check_histogram(family: Family) -> None:
    buckets = sorted(
        (_bound(dict(labels)["le"]), value)
        for (name, labels), value in family.samples.items()
        if name == family.name + "_bucket"
    )
    counts = [value for _, value in buckets]
    if not buckets or buckets[-1][0] != math.inf:
        raise ExpositionError(f"{family.name}: no +Inf bucket")
    if counts != sorted(counts):
        raise ExpositionError(f"{family.name}: buckets are not cumulative")
    if family.samples.get((family.name + "_count", ())) != counts[-1]:
        raise ExpositionError(f"{family.name}: _count differs from the +Inf bucket")
    if (family.name + "_sum", ()) not in family.samples:
        raise ExpositionError(f"{family.name}: no _sum")


def _bound(text: str) -> float:
    return math.inf if text == "+Inf" else float(text)


def value(families: dict[str, Family], name: str, **labels: str) -> float:
    """One series' value (a histogram's ``_count`` or ``_sum`` by its full name)."""
    family_name = re.sub(r"_(bucket|sum|count)$", "", name)
    family = families.get(name) or families[family_name]
    return family.samples[(name, tuple(sorted(labels.items())))]
