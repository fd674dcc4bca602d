"""Unit tests of the reference profile and the scores (pure functions)."""

import math
import random

import pytest

from drift_check.profile import (
    FORMAT, OTHER, PREDICTION_FEATURE, ProfileError, build_profile, describe, numeric_bin, psi, score_entry, score_window, validate_profile,
)


def test_numeric_bins_are_right_closed():
    edges = [1.0, 2.0]
    assert [numeric_bin(edges, v) for v in (0.5, 1.0, 1.5, 2.0, 2.5)] == [0, 0, 1, 1, 2]


def test_describe_numeric_uses_quantile_edges_and_counts_missing():
    entry = describe(list(range(1, 11)) + [None, None], bins=5)
    assert entry["type"] == "numeric"
    assert entry["edges"] == [2, 4, 6, 8]
    assert entry["fractions"] == [2 / 12] * 5
    assert entry["missing"] == pytest.approx(2 / 12)


def test_describe_categorical_keeps_the_most_frequent_and_folds_the_rest():
    entry = describe(["a"] * 5 + ["b"] * 3 + ["c", "d"] + [True], max_categories=2)
    assert entry == {"type": "categorical", "fractions": {"a": 5 / 11, "b": 3 / 11, OTHER: 3 / 11}, "missing": 0.0}


def test_psi_is_zero_for_equal_shares_and_matches_the_formula():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert psi([0.5, 0.5], [0.8, 0.2]) == pytest.approx(expected)
    # An empty bin is floored, not infinite.
    assert math.isfinite(psi([1.0, 0.0], [0.0, 1.0]))


def records(n, seed, shift=False):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        amount = rng.lognormvariate(3, 1) * (10 if shift else 1)
        out.append({"input": {"amount": amount, "country": rng.choice(["BR", "US"] if shift else ["DE", "FR"])}, "prediction": amount / (amount + 50)})
    return out


def test_same_distribution_scores_low_and_a_shift_scores_high():
    profile = validate_profile(build_profile(records(3000, 1)))
    same = score_window(profile, records(1000, 2))
    shifted = score_window(profile, records(1000, 3, shift=True))
    assert set(same) == {"amount", "country", PREDICTION_FEATURE}
    assert all(s < 0.05 for s, _ in same.values()), same
    assert all(s > 1 for s, _ in shifted.values()), shifted


def test_missing_and_wrongly_typed_values_count_as_missing_and_as_drift():
    entry = describe([float(i) for i in range(100)])
    score, missing = score_entry(entry, [1.0] * 50 + [None] * 25 + ["12"] * 25)
    assert missing == 0.5
    assert score > 1


def test_unseen_categories_fall_into_other():
    entry = describe(["a", "b"] * 50)
    score, missing = score_entry(entry, ["a", "z"] * 50)
    assert missing == 0 and score > 1


def test_validate_profile_names_every_problem():
    bad = {
        "format": "v0",
        "features": {
            "x": {"type": "numeric", "edges": [2, 1], "fractions": [1]},
            "y": {"type": "categorical", "fractions": {"a": 0.5}, "missing": 0.2},
            "z": {"type": "text"},
        },
    }
    with pytest.raises(ProfileError) as e:
        validate_profile(bad)
    message = str(e.value)
    for part in (f'format must be "{FORMAT}"', "prediction is missing", "features.x: edges must be a list of increasing numbers",
                 "features.y: fractions and missing must add up to 1, got 0.700000", "features.z: type must be"):
        assert part in message, message
