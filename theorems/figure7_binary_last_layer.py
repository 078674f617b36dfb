"""Figure 7 (SI Appendix, after Lemma 3): last-layer weights of a network trained on two classes.

"If the prediction of Lemma 3 applied to real neural networks for binary classification, then we would
observe a mixture of one or two point masses in the histograms, which however is not the case"
(VGG11 on the first two FashionMNIST classes, 6000 examples each).  The ℓ2 model instead predicts
the K = 2 simplex ETF (Theorem 1): ``w_1 = -w_2``.

Decided on every balanced two-class configuration of the store with >= 3 seeds (the CPU proxy: an
MLP of width 256 on 500 examples per class), from each run's stored classifier.
On the ``cpu-report`` store these checks are inconclusive (its runs are far from the regime,
experiments/regime.py; what they would give is the record's ``off_regime_*`` detail), as listed in
``theorems/expected_verdicts.toml``.  Runs in regime: ``python -m lpm_verify train --preset cpu-regime``.
"""
from __future__ import annotations

from experiments.claims_data import (SeedGroup, binary_groups, classifier_weights, decide_in_regime, mean_sd,
                                     setting_label, tally)
from experiments.point_masses import POINT_MASS_LEVEL, WINDOW, two_mass_fraction
from lpm_verify.check_inputs import CheckInputs
from lpm_verify.records import Outcome
from lpm_verify.registry import check

#: Training accuracy of a binary network whose entries the claim is about: the paper's Fig. 7 network fits its
#: training set (100%); entries of a network that has not learned (chance: 50%) are its random initialisation,
#: which is no point mass whatever the model predicts.
TRAINED_ACC = 0.99
#: cos(w_1, w_2) at or below this counts as "w_1 = -w_2" (the mirror of Fig. 4's collapse level 0.9).
OPPOSITE_LEVEL = -0.9


@check("Figure 7/entries-not-point-masses", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of classifiers w_k whose entries look like one or two point masses (M2 >= {POINT_MASS_LEVEL})",
       claim="in binary training the entries of each last-layer classifier w_k are not a mixture of one or two point "
             "masses: Lemma 3's all-ones (q > 2) and sparse (q < 2) patterns do not appear (Fig. 7)")
def _not_point_masses(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 7/entries-not-point-masses", inputs.runs,
                            _not_point_masses_on, "balanced two-class runs (Fig. 7)")


def _not_point_masses_on(groups: list[SeedGroup]) -> Outcome | None:
    every = binary_groups(groups)
    if not every:
        return None
    groups = [g for g in every if all(acc >= TRAINED_ACC for acc in g.by_seed("train_acc").values())]
    if not groups:
        return Outcome(f"M2(w_k) < {POINT_MASS_LEVEL}", None, float("nan"),
                       detail={"settings": [setting_label(g) for g in every]},
                       inconclusive_reason=f"no balanced two-class run fits its training set (training accuracy >= "
                                           f"{TRAINED_ACC} in every seed, as the paper's Fig. 7 network): the "
                                           "entries of a network that has not learned say nothing about Lemma 3")
    violations, observed, n = [], {}, 0
    for g in groups:
        label = setting_label(g)
        stats = {}
        for seed, path in zip(g.seeds, g.paths):
            W = classifier_weights(path)  # (2, p)
            for k in range(W.shape[0]):
                n += 1
                m2 = two_mass_fraction(W[k])
                stats[(seed, k)] = m2
                if m2 >= POINT_MASS_LEVEL:
                    violations.append(f"{label}, seed {seed}: {m2:.0%} of the entries of w_{k + 1} lie within "
                                      f"{WINDOW:.0%} of the rms entry of two values")
        observed[label] = {f"M2(w_{k + 1})": mean_sd(v for (s, kk), v in stats.items() if kk == k) for k in range(2)}
    return tally(expected=f"M2(w_k) < {POINT_MASS_LEVEL}", violations=violations, comparisons=n, observed=observed,
                 criterion=f"in every seed of every run that fits its training set (>= {TRAINED_ACC}), for w_1 and w_2: "
                           f"the fraction M2 of entries within ±{WINDOW:.0%} of the "
                           f"root-mean-square entry of the two best-covering values is < {POINT_MASS_LEVEL} (one or two "
                           f"point masses give 1, Gaussian entries about 0.08)",
                 settings=[setting_label(g) for g in groups])


@check("Figure 7/w1-opposite-w2", method="experiment", origin="beyond", part="statement",
       tolerance=0,
       reason=f"a count of seeds with cos(w_1, w_2) above {OPPOSITE_LEVEL}",
       claim="in binary training the two classifiers point in opposite directions, w_1 = -w_2: the K = 2 simplex ETF "
             "that the ℓ2 Layer-Peeled Model predicts (Theorem 1); the paper does not claim it for its Fig. 7 "
             "networks (a finding beyond the paper)")
def _opposite(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 7/w1-opposite-w2", inputs.runs,
                            _opposite_on, "balanced two-class runs (Fig. 7)")


def _opposite_on(groups: list[SeedGroup]) -> Outcome | None:
    groups = binary_groups(groups)
    if not groups:
        return None
    violations, observed = [], {}
    for g in groups:
        cos = g.by_seed("cos_all")  # K = 2: the one pair (w_1, w_2)
        violations += [f"{setting_label(g)}, seed {s}: cos(w_1, w_2) = {c:.4f}" for s, c in cos.items()
                       if not c <= OPPOSITE_LEVEL]
        observed[setting_label(g)] = mean_sd(cos.values())
    return tally(expected=f"cos(w_1, w_2) <= {OPPOSITE_LEVEL}", violations=violations,
                 comparisons=sum(len(g.seeds) for g in groups), observed=observed,
                 criterion=f"in every seed, cos(w_1, w_2) <= {OPPOSITE_LEVEL} (the ETF has -1)",
                 settings=[setting_label(g) for g in groups])


#: Fig. 7's caption: "The training and test accuracies are 100% and 99.75%".  Training counts as 100% from
#: 99.5% (one example in 200); the test accuracy may be 1 point lower (the CPU proxy is an MLP, not VGG11;
#: the binomial standard error of 99.75% on 2000 test images is 0.11 points).
FIG7_TRAIN_ACC, FIG7_TEST_ACC = 0.995, 0.9875


@check("Figure 7/accuracies", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of seeds with training accuracy < {FIG7_TRAIN_ACC} or test accuracy < {FIG7_TEST_ACC}",
       claim="the binary networks of Fig. 7 reach 100% training and 99.75% test accuracy (Fig. 7's caption)")
def _accuracies(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 7/accuracies", inputs.runs, _accuracies_on, "balanced two-class runs (Fig. 7)")


def _accuracies_on(groups: list[SeedGroup]) -> Outcome | None:
    bins = binary_groups(groups)
    if not bins:
        return None
    violations, observed, n = [], {}, 0
    for g in bins:
        train, test = g.by_seed("train_acc"), g.by_seed("test_acc")
        for s in g.seeds:
            n += 1
            if not (train[s] >= FIG7_TRAIN_ACC and test[s] >= FIG7_TEST_ACC):
                violations.append(f"{setting_label(g)}, seed {s}: training {train[s]:.4f}, test {test[s]:.4f}")
        observed[setting_label(g)] = {"train": mean_sd(train.values()), "test": mean_sd(test.values())}
    return tally(expected=f"train >= {FIG7_TRAIN_ACC}, test >= {FIG7_TEST_ACC}", violations=violations,
                 comparisons=n, observed=observed,
                 criterion=f"in every seed, training accuracy >= {FIG7_TRAIN_ACC:.1%} and test accuracy >= "
                           f"{FIG7_TEST_ACC:.2%} (the paper: 100% and 99.75%)",
                 settings=[setting_label(g) for g in bins])
