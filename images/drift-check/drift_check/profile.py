"""Reference profiles and the scores computed against them.

A reference profile (docs/monitoring.md, "The reference profile") describes the training data of one model
version, feature by feature: numeric features as shares of quantile bins, categorical features as shares of
their categories, each with the share of rows where the value is missing. The prediction is profiled the
same way under the key "prediction". Everything here is pure: no I/O.
"""

import bisect
import json
import math
from collections import Counter

FORMAT = "mlops-reference-profile/v1"
#: Categories beyond the most frequent ones, and categories the reference never saw.
OTHER = "__other__"
#: The drift score's name for the prediction itself.
PREDICTION_FEATURE = "__prediction__"
#: Shares below this are raised to it before the PSI's logarithm (an empty bin would be infinitely surprising).
PSI_FLOOR = 1e-4
#: Tolerance of the check that a profile's shares add up to 1.
SUM_TOLERANCE = 1e-3


class ProfileError(ValueError):
    """A reference profile that does not follow the format."""


def is_number(value):
    """Numbers are ints and finite floats; booleans are categories."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def _category(value):
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _quantile_edges(values, bins):
    """Inner cut points at the 1/bins .. (bins-1)/bins quantiles (nearest rank), without duplicates."""
    ordered = sorted(values)
    edges = []
    for i in range(1, bins):
        edge = ordered[min(len(ordered) - 1, max(0, math.ceil(i * len(ordered) / bins) - 1))]
        if not edges or edge > edges[-1]:
            edges.append(edge)
    # A bin above the largest value would always be empty.
    if edges and edges[-1] >= ordered[-1]:
        edges.pop()
    return edges


def numeric_bin(edges, value):
    """Index of the bin of `value`: bins are (-inf, e0], (e0, e1], ..., (e_last, +inf)."""
    return bisect.bisect_left(edges, value)


def describe(values, bins=10, max_categories=50):
    """The profile entry of one feature from its training values (None for missing)."""
    present = [v for v in values if v is not None]
    total = len(values)
    if total == 0:
        raise ProfileError("no rows to profile")
    if present and all(is_number(v) for v in present):
        edges = _quantile_edges(present, bins)
        counts = [0] * (len(edges) + 1)
        for v in present:
            counts[numeric_bin(edges, v)] += 1
        return {"type": "numeric", "edges": edges, "fractions": [c / total for c in counts], "missing": (total - len(present)) / total}
    counts = Counter(_category(v) for v in present)
    kept = dict(counts.most_common(max_categories))
    other = sum(counts.values()) - sum(kept.values())
    fractions = {k: c / total for k, c in sorted(kept.items())}
    if other:
        fractions[OTHER] = other / total
    return {"type": "categorical", "fractions": fractions, "missing": (total - len(present)) / total}


def build_profile(records, bins=10, max_categories=50):
    """A profile from records in the prediction-log format ({"input": {...}, "prediction": ...})."""
    records = list(records)
    if not records:
        raise ProfileError("no records to profile")
    names = sorted({name for r in records for name in r["input"]})
    features = {name: describe([r["input"].get(name) for r in records], bins, max_categories) for name in names}
    prediction = describe([r.get("prediction") for r in records], bins, max_categories)
    return {"format": FORMAT, "rows": len(records), "features": features, "prediction": prediction}


def validate_profile(profile):
    """Checks a loaded profile; raises ProfileError naming every problem."""
    problems = []
    if not isinstance(profile, dict):
        raise ProfileError("the profile is not a JSON object")
    if profile.get("format") != FORMAT:
        problems.append(f'format must be "{FORMAT}", got {profile.get("format")!r}')
    features = profile.get("features")
    if not isinstance(features, dict) or not features:
        problems.append("features must be a non-empty object")
        features = {}
    entries = [(f"features.{k}", v) for k, v in features.items()]
    if "prediction" in profile:
        entries.append(("prediction", profile["prediction"]))
    else:
        problems.append("prediction is missing")
    for where, entry in entries:
        problems.extend(f"{where}: {p}" for p in _entry_problems(entry))
    if problems:
        raise ProfileError("; ".join(problems))
    return profile


def _entry_problems(entry):
    if not isinstance(entry, dict):
        return ["must be an object"]
    problems = []
    missing = entry.get("missing", 0)
    if not is_number(missing) or not 0 <= missing <= 1:
        problems.append(f"missing must be a share from 0 to 1, got {missing!r}")
        missing = 0
    kind = entry.get("type")
    if kind == "numeric":
        edges, fractions = entry.get("edges"), entry.get("fractions")
        if not isinstance(edges, list) or not all(is_number(e) for e in edges) or edges != sorted(set(edges)):
            problems.append("edges must be a list of increasing numbers")
            return problems
        if not isinstance(fractions, list) or len(fractions) != len(edges) + 1:
            problems.append(f"fractions must be a list of len(edges) + 1 = {len(edges) + 1} shares")
            return problems
        shares = fractions
    elif kind == "categorical":
        fractions = entry.get("fractions")
        if not isinstance(fractions, dict) or not fractions:
            problems.append("fractions must be an object of category shares")
            return problems
        shares = list(fractions.values())
    else:
        return problems + [f'type must be "numeric" or "categorical", got {kind!r}']
    if not all(is_number(s) and s >= 0 for s in shares):
        problems.append("fractions must be shares from 0 to 1")
    elif abs(sum(shares) + missing - 1) > SUM_TOLERANCE:
        problems.append(f"fractions and missing must add up to 1, got {sum(shares) + missing:.6f}")
    return problems


def observed_shares(entry, values):
    """Shares of `values` in the bins of a profile entry, plus the share missing (absent, null or of the wrong type)."""
    total = len(values)
    if entry["type"] == "numeric":
        counts = [0] * (len(entry["edges"]) + 1)
        missing = 0
        for v in values:
            if is_number(v):
                counts[numeric_bin(entry["edges"], v)] += 1
            else:
                missing += 1
        return [c / total for c in counts], missing / total
    keys = list(entry["fractions"])
    counts = dict.fromkeys(keys, 0)
    counts.setdefault(OTHER, 0)
    missing = 0
    for v in values:
        if v is None:
            missing += 1
            continue
        c = _category(v)
        counts[c if c in counts else OTHER] += 1
    return {k: n / total for k, n in counts.items()}, missing / total


def psi(expected, actual):
    """Population stability index of two lists of shares over the same bins: sum((a - e) * ln(a / e))."""
    score = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, PSI_FLOOR), max(a, PSI_FLOOR)
        score += (a - e) * math.log(a / e)
    return score


def score_entry(entry, values):
    """(PSI, share missing) of recent `values` against a profile entry; the missing share is a bin of the PSI too."""
    shares, missing = observed_shares(entry, values)
    if entry["type"] == "numeric":
        expected, actual = list(entry["fractions"]), list(shares)
    else:
        keys = sorted(set(entry["fractions"]) | set(shares))
        expected = [entry["fractions"].get(k, 0.0) for k in keys]
        actual = [shares.get(k, 0.0) for k in keys]
    expected.append(entry.get("missing", 0.0))
    actual.append(missing)
    return psi(expected, actual), missing


def score_window(profile, records):
    """Scores of every profiled feature and of the prediction: {feature: (psi, missing share)}."""
    scores = {}
    for name, entry in sorted(profile["features"].items()):
        scores[name] = score_entry(entry, [r["input"].get(name) if isinstance(r.get("input"), dict) else None for r in records])
    scores[PREDICTION_FEATURE] = score_entry(profile["prediction"], [r.get("prediction") for r in records])
    return scores
