"""A strict parser of the Prometheus text exposition format 0.0.4, for the tests of /metrics.

parse(text) returns {family: Family}; it raises ValueError for anything a Prometheus server would
refuse or that breaks the format's rules: a sample before its # TYPE, a family declared twice or
split in two, a malformed line, a duplicate series, a histogram without +Inf or with decreasing
buckets, a negative counter.
"""
import math
import re

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)(?: (-?\d+))?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Family:
    def __init__(self, name, type_, help_):
        self.name = name
        self.type = type_
        self.help = help_
        self.samples = {}  # (sample name, frozenset of label items) -> float

    def value(self, suffix="", **labels):
        """The value of the one series with exactly these labels (KeyError if none)."""
        return self.samples[(self.name + suffix, frozenset(labels.items()))]

    def get(self, default=0.0, suffix="", **labels):
        return self.samples.get((self.name + suffix, frozenset(labels.items())), default)

    def series(self, suffix=""):
        """[(labels dict, value)] of the samples named name+suffix."""
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == self.name + suffix]


def _parse_labels(text):
    labels = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m:
            raise ValueError(f"bad labels: {text!r}")
        key, raw = m.group(1), m.group(2)
        if key in labels:
            raise ValueError(f"label {key} repeated in {text!r}")
        labels[key] = raw.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
    return labels


def _parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    return float(text)


def _family_of(sample_name, family):
    if family is None:
        return False
    if family.type == "histogram":
        return sample_name in (family.name + "_bucket", family.name + "_sum", family.name + "_count")
    if family.type == "summary":
        return sample_name in (family.name, family.name + "_sum", family.name + "_count")
    return sample_name == family.name


def parse(text):
    if text and not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    families = {}
    current = None
    helps = {}
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            continue
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            helps[name] = help_
            continue
        if line.startswith("# TYPE "):
            name, _, type_ = line[7:].partition(" ")
            if not re.fullmatch(_NAME, name) or type_ not in _TYPES:
                raise ValueError(f"line {lineno}: bad TYPE line {line!r}")
            if name in families:
                raise ValueError(f"line {lineno}: family {name} declared twice")
            current = families[name] = Family(name, type_, helps.get(name))
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {lineno}: malformed sample {line!r}")
        sample_name, label_text, value_text = m.group(1), m.group(2) or "", m.group(3)
        if not _family_of(sample_name, current):
            raise ValueError(f"line {lineno}: {sample_name} outside its family's block")
        labels = _parse_labels(label_text)
        value = _parse_value(value_text)
        key = (sample_name, frozenset(labels.items()))
        if key in current.samples:
            raise ValueError(f"line {lineno}: duplicate series {line!r}")
        if current.type == "counter" and value < 0:
            raise ValueError(f"line {lineno}: negative counter {line!r}")
        current.samples[key] = value
    for family in families.values():
        if family.type == "histogram":
            _check_histogram(family)
    return families


def _check_histogram(family):
    groups = {}
    for (name, labels), value in family.samples.items():
        if name.endswith("_bucket"):
            d = dict(labels)
            le = d.pop("le", None)
            if le is None:
                raise ValueError(f"{family.name}: bucket without le")
            groups.setdefault(frozenset(d.items()), []).append((_parse_value(le), value))
    for labels, buckets in groups.items():
        buckets.sort()
        if buckets[-1][0] != math.inf:
            raise ValueError(f"{family.name}{dict(labels)}: no +Inf bucket")
        counts = [c for _, c in buckets]
        if counts != sorted(counts):
            raise ValueError(f"{family.name}{dict(labels)}: buckets not cumulative")
        count = family.samples.get((family.name + "_count", labels))
        if count != buckets[-1][1]:
            raise ValueError(f"{family.name}{dict(labels)}: _count {count} != +Inf bucket")
