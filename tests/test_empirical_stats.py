"""The statistics behind the experiment checks: collapse points (Figs. 2/4), the Fig. 7 point-mass
statistic, the Fig. 9 angles, and the presets they are decided on."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.collapse import Crossing, collapse_levels, collapse_point, crossing, earlier, predicted_R0
from experiments.imagenet_angles import angle_stats, architecture, classifier_weight, etf_angle
from experiments.point_masses import POINT_MASS_LEVEL, is_point_mass_mixture, two_mass_fraction
from experiments.presets import CHECK_SEEDS, preset_configs
from lpm_verify.errors import LPMInputError


# -- collapse points -------------------------------------------------------------------------
def test_levels_for_ten_classes():
    levels = collapse_levels(10)
    assert levels["halfway"] == pytest.approx((1 - 1 / 9) / 2) and levels["0.9"] == 0.9


def test_crossing_is_interpolated_in_log_R():
    # cos rises from 0 at R = 10 to 1 at R = 1000: it crosses 0.5 at log10 R = 2.
    got = crossing([1, 10, 1000], [-0.1, 0.0, 1.0], 0.5)
    assert got.bound == "=" and got.R == pytest.approx(100.0, rel=1e-12)
    # the curve of an LPM-shaped network: cos = -1/9 + (10/9) log R / log 400
    R = [1, 10, 25, 100, 500, math.inf]
    cos = [min(1.0, -1 / 9 + 10 / 9 * math.log(r) / math.log(400)) if math.isfinite(r) else 1.0 for r in R]
    t = (0.9 - cos[3]) / (cos[4] - cos[3])  # linear in log R between the grid points R = 100 and 500
    assert crossing(R, cos, 0.9).R == pytest.approx(100 * 5 ** t, rel=1e-12)
    assert 100 * 5 ** t > 400 ** ((0.9 + 1 / 9) / (10 / 9))  # the grid overestimates a curve that kinks at 400


def test_crossing_censoring_and_bad_input():
    """A crossing the grid does not bracket is a bound, never a number (one rule for checks and report)."""
    beyond = crossing([1, 10, math.inf], [0.1, 0.3, 1.0], 0.9)  # only R = inf reaches it
    assert beyond == Crossing(10.0, ">", 0.9) and str(beyond) == "> 10" and beyond.interval == (10.0, math.inf)
    assert crossing([10, 100], [0.95, 1.0], 0.9) == Crossing(10.0, "<=", 0.9)
    assert crossing([10, 100], [0.95, 1.0]).to_dict() == {"R": 10.0, "bound": "<=", "level": 0.9}
    with pytest.raises(LPMInputError, match="cos must be finite"):
        crossing([1, 10], [0.0, math.nan], 0.5)
    with pytest.raises(LPMInputError, match="R must be increasing"):
        crossing([10, 1], [0.0, 1.0], 0.5)


def test_earlier_decides_only_what_the_bounds_decide():
    at = lambda R, b="=": Crossing(R, b, 0.9)  # noqa: E731
    assert earlier(at(10), at(100)) is True and earlier(at(100), at(10)) is False
    assert earlier(at(100), at(500, ">")) is True          # an exact point before a crossing beyond the grid
    assert earlier(at(500, ">"), at(500, ">")) is None     # two bounds: undecided, never "equal"
    assert earlier(at(10, "<="), at(500, ">")) is True
    assert earlier(at(100), at(100)) is False and earlier(at(100), at(100), strict=False) is True


def test_collapse_point_summarises_seeds_and_compares_with_the_lpm():
    R = [1, 10, 100, 1000]
    p = collapse_point(R, {0: [-0.1, 0.0, 1.0, 1.0], 1: [-0.1, 0.5, 1.0, 1.0]}, 0.5, "halfway", predicted=1000.0)
    assert [c.R for c in p.per_seed] == pytest.approx((10 ** 1.5, 10.0))
    assert p.log10_mean == pytest.approx(1.25) and p.log10_sd == pytest.approx(math.sqrt(0.125))
    assert p.log10_ratio == pytest.approx(3 - 1.25) and p.censored is None
    never = collapse_point(R, {0: [-0.1, 0.0, 0.1, 0.2]}, 0.5, predicted=100.0)
    assert never.observed is None and never.log10_ratio is None and never.censored == "above the grid"
    assert never.per_seed == (Crossing(1000.0, ">", 0.5),)
    assert predicted_R0([None, 10.0, 1000.0, float("nan")]) == pytest.approx(505.0) and predicted_R0([None]) is None


# -- Fig. 7 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [64, 256, 1024])
def test_point_masses_are_detected_and_gaussian_entries_are_not(p):
    rng = np.random.default_rng(p)
    one = 0.3 + 1e-4 * rng.normal(size=p)                                    # one point mass (same signs)
    two = np.where(rng.random(p) < 0.5, 1.0, -1.0) + 1e-3 * rng.normal(size=p)  # Lemma 3, q > 2: +-c
    sparse = np.zeros(p)
    sparse[3] = 2.0                                                          # Lemma 3, q < 2: sparse
    for w in (one, two, sparse):
        assert two_mass_fraction(w) == 1.0 and is_point_mass_mixture(w)
    gauss = rng.normal(size=p)
    assert two_mass_fraction(gauss) < 0.3 and not is_point_mass_mixture(gauss)
    # 80% on two masses and 20% spread still counts as point masses only if >= POINT_MASS_LEVEL
    mixed = np.concatenate([two[: int(0.8 * p)], rng.uniform(-0.8, 0.8, size=p - int(0.8 * p))])
    assert two_mass_fraction(mixed) < POINT_MASS_LEVEL


def test_point_mass_statistic_rejects_bad_input():
    with pytest.raises(LPMInputError, match="w must be"):
        two_mass_fraction(np.array([1.0, np.nan]))


# -- Fig. 9 ----------------------------------------------------------------------------------
def test_etf_angle_and_angle_stats():
    assert etf_angle(1000) == pytest.approx(math.degrees(math.acos(-1 / 999))) == pytest.approx(90.0573, abs=1e-4)
    st = angle_stats(np.eye(4) - 0.25)
    assert st.min == pytest.approx(st.max) == pytest.approx(etf_angle(4)) and st.std == pytest.approx(0, abs=1e-6)


def test_classifier_key_and_architecture_from_a_state_dict():
    import torch
    vgg = {f"features.{i}.weight": torch.zeros(1, 1, 1, 1) for i in range(16)}
    vgg.update({"classifier.0.weight": torch.zeros(4, 2), "classifier.6.weight": torch.ones(3, 4)})
    assert classifier_weight(vgg)[0] == "classifier.6.weight" and architecture(vgg) == "vgg19"
    other = {"body.weight": torch.zeros(2, 2), "last.weight": torch.ones(5, 2)}
    assert classifier_weight(other)[0] == "last.weight" and architecture(other) is None


# -- presets ---------------------------------------------------------------------------------
def test_every_configuration_has_three_seeds_and_the_new_runs_are_there():
    for name in ("cpu-report", "paper"):
        configs = preset_configs(name)
        per_config: dict = {}
        for c in configs:
            key = c.__class__(**{**c.__dict__, "seed": 0})
            per_config.setdefault(key, set()).add(c.seed)
        assert all(seeds == set(CHECK_SEEDS) for seeds in per_config.values()), name
        binary = [c for c in configs if c.class_order == (0, 1)]
        assert binary and {(c.K_A, c.R) for c in binary} == {(1, 1)}
    paper = preset_configs("paper")
    fig2 = {(c.R, c.seed) for c in paper if c.wd == 5e-3}
    assert {c.dataset for c in paper if c.wd == 5e-3} == {"cifar10"} and len(fig2) == 8 * 3
    assert {(c.arch, c.n_majority) for c in paper if c.class_order == (0, 1)} == {("vgg11", 6000)}


@pytest.mark.parametrize("weight", ["complex", "integer"])
def test_a_classifier_must_be_real_floating_point(weight):
    import torch
    W = torch.randn(5, 3, dtype=torch.complex64) if weight == "complex" else torch.ones(5, 3, dtype=torch.int64)
    with pytest.raises(LPMInputError, match="real floating-point classifier 'fc.weight'"):
        classifier_weight({"fc.weight": W})
    assert classifier_weight({"fc.weight": torch.randn(5, 3)})[1].dtype == np.float64  # control


def test_a_classifier_too_large_for_its_angles_is_refused_before_any_copy(tmp_path):
    """An expanded tensor: a small file (one stored row) whose shape claims K = 40000 (12 GiB of angles)."""
    import torch

    from experiments.imagenet_angles import load_classifier
    path = tmp_path / "big.pt"
    torch.save({"fc.weight": torch.randn(1, 2).expand(40000, 2)}, path)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(LPMInputError, match=r"shape \(40000, 2\), which needs 35.8 GiB"):
        load_classifier(path)
