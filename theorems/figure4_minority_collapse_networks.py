"""Figure 4 and Table 1 (Section 4.C): Minority Collapse in trained networks.

Fig. 4 plots the average between-minority-class cosine of the last-layer classifiers against the
imbalance ratio R for K_A in {3, 5, 7}: "the angles between the minority classifiers collapse to
zero as soon as R is large enough" and "Minority Collapse is compounded when there are more majority
classes".  Table 1: at R = inf "the classifiers of the minority classes have almost the same length"
(Std/Avg of their norms between 4.4e-8 and 1.4e-4).

Experiment checks on the run store (``verify --runs DIR``): each decides on every curve (setting,
weight decay, K_A) with >= 3 seeds (2 in the cpu-regime preset) in the claim's regime, seed by seed; the
CPU store is an MLP proxy for VGG/ResNet.
On the ``cpu-report`` store these checks are inconclusive (its runs are far from the regime,
experiments/regime.py; what they would give is the record's ``off_regime_*`` detail), as listed in
``theorems/expected_verdicts.toml``.  Runs in regime: ``python -m lpm_verify train --preset cpu-regime``.
"""
from __future__ import annotations

import math

from experiments.claims_data import SeedGroup, curves, decide_in_regime, mean_sd, seeds_needed, setting_label, tally
from experiments.collapse import COLLAPSE_LEVEL, collapse_levels, crossing, earlier
from lpm_verify.check_inputs import CheckInputs
from lpm_verify.records import Outcome
from lpm_verify.registry import check

#: Drop of the minority cosine between consecutive R that still counts as "not decreasing": 2.5% of the
#: cosine's range [-1, 1], about the seed-to-seed spread of a trained network's cosine.
COSINE_SLACK = 0.05
#: Table 1's bound on Std/Avg of the minority norms: ten times the largest value of Table 1 (1.4e-4).
NORM_VARIATION_BOUND = 1e-3


#: The rise of the minority cosine from the first R of a curve to the last that the claim needs: half the way
#: from the simplex ETF's -1/(K-1) (Definition 1: every classifier pair at R = 1) to 1 (collapse).  Fig. 4's
#: curves go the whole way; without an overall rise a flat curve (nothing happening) would pass.
def required_rise(K: int) -> float:
    return (1.0 + 1.0 / (K - 1)) / 2.0


def _R(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:g}"


@check("Figure 4/minority-cosine-increases-with-R", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason="a count of violated comparisons; each comparison already allows a drop of COSINE_SLACK = 0.05",
       claim="the average between-minority-class cosine of the last-layer classifiers increases with the "
             "imbalance ratio R (Fig. 4), for every K_A and weight decay")
def _increases(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 4/minority-cosine-increases-with-R", inputs.runs,
                            _increases_on, "Fig. 4 curves (w_r = 1, two or more R values)")


def _increases_on(groups: list[SeedGroup]) -> Outcome | None:
    cs = curves(groups)
    if not cs:
        return None
    violations, n, observed = [], 0, {}
    for c in cs:
        cos = c.metric("cos_minority")
        for seed, ys in cos.items():
            for i in range(len(ys) - 1):
                n += 1
                if ys[i + 1] < ys[i] - COSINE_SLACK:
                    violations.append(f"{c.label()}, seed {seed}: cos {ys[i]:.3f} at R = {_R(c.R[i])} -> "
                                      f"{ys[i + 1]:.3f} at R = {_R(c.R[i + 1])}")
            n += 1
            if not ys[-1] - ys[0] >= required_rise(c.K):
                violations.append(f"{c.label()}, seed {seed}: cos rises by {ys[-1] - ys[0]:.3f} from R = {_R(c.R[0])} "
                                  f"to R = {_R(c.R[-1])}, less than {required_rise(c.K):.3f}")
        observed[c.label()] = {_R(R): mean_sd(v[i] for v in cos.values()) for i, R in enumerate(c.R)}
    return tally(expected=f"cos(R_next) >= cos(R) - {COSINE_SLACK} at every step of the R grid; cos(R_last) - "
                          "cos(R_first) >= (1 + 1/(K-1))/2",
                 violations=violations, comparisons=n, observed=observed,
                 criterion=f"in every seed of every curve, the minority cosine "
                           f"never drops by more than {COSINE_SLACK} from one R of the grid to the next (R = inf last), and "
                           "rises from the first R to the last by at least half the way from -1/(K-1) to 1",
                 settings=[c.label() for c in cs])


@check("Figure 4/minority-cosine-near-one-at-largest-R", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of (curve, seed) pairs below the level {COLLAPSE_LEVEL}; the level itself is the stated "
              "meaning of 'the cosine approaches 1'",
       claim="at the largest finite imbalance ratio of the grid the minority classifiers have collapsed: their "
             "average cosine approaches 1 (Fig. 4; 'as soon as R is large enough')")
def _near_one(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 4/minority-cosine-near-one-at-largest-R", inputs.runs,
                            _near_one_on, "Fig. 4 curves")


def _near_one_on(groups: list[SeedGroup]) -> Outcome | None:
    cs = [c for c in curves(groups) if any(math.isfinite(R) for R in c.R)]
    if not cs:
        return None
    violations, observed = [], {}
    for c in cs:
        i = max(j for j, R in enumerate(c.R) if math.isfinite(R))
        at = {s: ys[i] for s, ys in c.metric("cos_minority").items()}
        violations += [f"{c.label()}, seed {s}: cos {v:.4f} at R = {_R(c.R[i])}" for s, v in at.items() if v < COLLAPSE_LEVEL]
        observed[f"{c.label()}, R = {_R(c.R[i])}"] = mean_sd(at.values())
    return tally(expected=f"cos >= {COLLAPSE_LEVEL}", violations=violations, comparisons=sum(len(c.seeds) for c in cs),
                 observed=observed,
                 criterion=f"in every seed of every curve, the minority cosine at the largest finite R is >= {COLLAPSE_LEVEL}",
                 settings=[c.label() for c in cs])


@check("Figure 4/compounded-by-more-majority-classes", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason="a count of violated comparisons between the collapse points of K_A values, seed by seed",
       claim="Minority Collapse is compounded when there are more majority classes: a larger K_A collapses at a "
             "smaller R (Fig. 4, consistent with Fig. 3)")
def _compounded(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 4/compounded-by-more-majority-classes", inputs.runs,
                            _compounded_on, "Fig. 4 curves for two or more K_A at one weight decay")


def _compounded_on(groups: list[SeedGroup]) -> Outcome | None:
    by_family: dict[tuple, list] = {}
    for c in curves(groups):
        by_family.setdefault((c.setting, c.wd), []).append(c)
    families = {k: sorted(v, key=lambda c: c.K_A) for k, v in by_family.items() if len(v) >= 2}
    if not families:
        return None
    violations, n, observed, settings = [], 0, {}, []
    for fam in families.values():
        level = collapse_levels(fam[0].K)["halfway"]
        seeds = sorted(set.intersection(*(set(c.seeds) for c in fam)), key=str)
        points = {c.K_A: {s: crossing(c.R, ys, level) for s, ys in c.metric("cos_minority").items() if s in seeds}
                  for c in fam}
        name = f"{fam[0].label().rsplit(', K_A', 1)[0]}"
        settings.append(name)
        observed[name] = {f"K_A = {k}": {str(s): str(r) for s, r in v.items()} for k, v in points.items()}
        kas = [c.K_A for c in fam]
        for s in seeds:
            for small, large in zip(kas, kas[1:]):
                n += 1
                if earlier(points[large][s], points[small][s], strict=False) is False:
                    violations.append(f"{name}, seed {s}: K_A = {large} crosses at R {points[large][s]}, "
                                      f"after K_A = {small} (R {points[small][s]})")
            n += 1
            if earlier(points[kas[-1]][s], points[kas[0]][s]) is not True:
                violations.append(f"{name}, seed {s}: K_A = {kas[-1]} is not shown to collapse strictly before "
                                  f"K_A = {kas[0]} (R {points[kas[-1]][s]} vs {points[kas[0]][s]})")
    return tally(expected="R_c(K_A) nonincreasing in K_A, strictly smaller at the largest K_A than at the smallest",
                 violations=violations, comparisons=n, observed=observed,
                 criterion="in every seed, the R at which the minority cosine crosses halfway between -1/(K-1) and 1 "
                           "(interpolated in log R; a bound where the grid does not bracket it) is never shown to increase "
                           "with K_A, and is shown strictly smaller for the largest K_A than for the smallest",
                 settings=settings)


@check("Table 1/minority-norms-equal-at-R-inf", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of runs above the bound {NORM_VARIATION_BOUND:g} = ten times Table 1's largest Std/Avg (1.4e-4)",
       claim="at R = inf the minority classifiers have almost the same length: Std(||w_B||)/Avg(||w_B||) is small "
             "(Table 1)")
def _norms(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Table 1/minority-norms-equal-at-R-inf", inputs.runs,
                            _norms_on, "runs at R = inf")


def _norms_on(groups: list[SeedGroup]) -> Outcome | None:
    cs = [c for c in curves(groups) if c.at(math.inf) is not None]
    if not cs:
        return None
    violations, observed = [], {}
    for c in cs:
        nv = c.at(math.inf).by_seed("norm_variation_minority")
        nv = {s: v for s, v in nv.items() if s in c.seeds}
        violations += [f"{c.label()}, seed {s}: Std/Avg = {v:.3g}" for s, v in nv.items() if not v <= NORM_VARIATION_BOUND]
        observed[c.label()] = mean_sd(nv.values())
    return tally(expected=f"Std/Avg <= {NORM_VARIATION_BOUND:g}", violations=violations,
                 comparisons=sum(len(c.seeds) for c in cs), observed=observed,
                 criterion=f"in every seed of every (setting, wd, K_A) at R = inf, Std/Avg of the minority classifier "
                           f"norms is <= {NORM_VARIATION_BOUND:g}",
                 settings=[c.label() for c in cs], paper_values="4.4e-8 to 1.4e-4 (Table 1)")



#: The smallest R at which the minority and majority angles of networks are compared: the paper's grid's first
#: R above 1; closer to R = 1 the LPM's predicted gap (0.02 at R = 1.04, K_A = 5, E = 1) is below the
#: seed-to-seed spread of a network's cosines.
ANGLE_MIN_R = 10.0


@check("Figure 4/minority-angles-smaller-than-majority", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of (curve, seed, R) points below the transition (cos minority < {COLLAPSE_LEVEL}), "
              f"R >= {ANGLE_MIN_R:g}, where the minority cosine does not exceed the majority cosine",
       claim="even below the phase transition the angles between the minority classifiers are already smaller than "
             "those between the majority classifiers, empirically (Section 1)")
def _angles(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 4/minority-angles-smaller-than-majority", inputs.runs, _angles_on,
                            "Fig. 4 curves with an R >= 10 below the transition")


def _angles_on(groups: list[SeedGroup]) -> Outcome | None:
    violations, n, observed, settings = [], 0, {}, []
    for c in curves(groups):
        if c.K_A < 2:
            continue
        cmin, cmaj = c.metric("cos_minority"), c.metric("cos_majority")
        rows = {}
        for s in c.seeds:
            for i, R in enumerate(c.R):
                if math.isfinite(R) and R >= ANGLE_MIN_R and cmin[s][i] < COLLAPSE_LEVEL:
                    n += 1
                    rows[f"seed {s}, R = {_R(R)}"] = f"{cmin[s][i]:.3f} vs {cmaj[s][i]:.3f}"
                    if not cmin[s][i] > cmaj[s][i]:
                        violations.append(f"{c.label()}, seed {s}, R = {_R(R)}: cos minority {cmin[s][i]:.3f} <= "
                                          f"cos majority {cmaj[s][i]:.3f}")
        if rows:
            observed[c.label()] = rows
            settings.append(c.label())
    if not n:
        return None
    return tally(expected="cos minority > cos majority", violations=violations, comparisons=n, observed=observed,
                 criterion=f"in every seed of every curve, at every finite R >= {ANGLE_MIN_R:g} where the minority "
                           f"cosine is below {COLLAPSE_LEVEL} (below the transition), it exceeds the majority cosine",
                 settings=settings)


#: "No neural collapse" (Appendix D): the last layer of imbalanced training stays at least this many times
#: farther from a simplex ETF (NC2 of the classifier, ``nc2_W``) than the balanced run's (R = 1) of the same
#: setting; neural collapse (Papyan, Han, Donoho 2020) drives the balanced one towards 0.
NC_FACTOR = 2.0


@check("Figure 4/no-neural-collapse-under-imbalance", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of (curve, seed) pairs whose classifier at the largest finite R is not {NC_FACTOR:g} times "
              "farther from a simplex ETF than at R = 1",
       claim="neural collapse does not emerge in the terminal phase of imbalanced training: the classifier does not "
             "converge to a simplex ETF (Appendix D), unlike balanced training")
def _no_nc(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 4/no-neural-collapse-under-imbalance", inputs.runs, _no_nc_on,
                            "Fig. 4 curves with R = 1 and a larger finite R")


def _no_nc_on(groups: list[SeedGroup]) -> Outcome | None:
    cs = [c for c in curves(groups) if c.at(1) is not None and any(math.isfinite(R) and R > 1 for R in c.R)]
    if not cs:
        return None
    violations, observed, n = [], {}, 0
    for c in cs:
        top = c.at(max(R for R in c.R if math.isfinite(R)))
        hi, lo = top.by_seed("nc2_W"), c.at(1).by_seed("nc2_W")
        for s in c.seeds:
            n += 1
            if not hi[s] >= NC_FACTOR * lo[s]:
                violations.append(f"{c.label()}, seed {s}: NC2 of W {hi[s]:.3g} at R = {_R(top.R)} vs {lo[s]:.3g} "
                                  "at R = 1")
        observed[c.label()] = {"nc2_W at R = 1": mean_sd(lo[s] for s in c.seeds),
                               f"nc2_W at R = {_R(top.R)}": mean_sd(hi[s] for s in c.seeds),
                               "nc1 at R = 1 / largest R (information)": f"{c.at(1).mean('nc1'):.3g} / "
                                                                         f"{top.mean('nc1'):.3g}"}
    return tally(expected=f"nc2_W(R_max) >= {NC_FACTOR:g} nc2_W(R = 1)", violations=violations, comparisons=n,
                 observed=observed,
                 criterion=f"in every seed of every curve, the classifier's distance from a simplex ETF (NC2 of W) at "
                           f"the largest finite R is at least {NC_FACTOR:g} times the balanced run's (R = 1)",
                 settings=[c.label() for c in cs])


#: Fig. 4's caption: ResNet18's average minority cosine "would hit 1 for K_A = 7 when R = 5000 on CIFAR10,
#: and when R = 3000 on FashionMNIST".
RESNET_COLLAPSE_R = {"fashion-mnist": 3000.0, "cifar10": 5000.0}


@check("Figure 4/resnet18-collapses-at-R-3000-5000", method="experiment", origin="paper", part="statement",
       tolerance=0,
       reason=f"a count of seeds whose minority cosine is below {COLLAPSE_LEVEL} at that R",
       claim="for ResNet18 with K_A = 7 the average minority cosine hits 1 at R = 3000 on FashionMNIST and at "
             "R = 5000 on CIFAR10 (Fig. 4's caption)")
def _resnet(inputs: CheckInputs) -> Outcome:
    return decide_in_regime("Figure 4/resnet18-collapses-at-R-3000-5000", inputs.runs, _resnet_on,
                            "ResNet18 runs at K_A = 7, R = 3000 (FashionMNIST) / 5000 (CIFAR10) (paper preset, GPU)")


def _resnet_on(groups: list[SeedGroup]) -> Outcome | None:
    gs = [g for g in groups if g.config.get("arch") == "resnet18" and g.config.get("K_A") == 7 and g.oversample == 1
          and g.R == RESNET_COLLAPSE_R.get(str(g.config.get("dataset"))) and len(g.seeds) >= seeds_needed(g)]
    if not gs:
        return None
    violations, observed, n = [], {}, 0
    for g in gs:
        cos = g.by_seed("cos_minority")
        n += len(cos)
        violations += [f"{setting_label(g)}, R = {g.R:g}, seed {s}: cos {v:.4f}" for s, v in cos.items()
                       if not v >= COLLAPSE_LEVEL]
        observed[f"{setting_label(g)}, R = {g.R:g}"] = mean_sd(cos.values())
    return tally(expected=f"cos minority >= {COLLAPSE_LEVEL}", violations=violations, comparisons=n,
                 observed=observed,
                 criterion=f"in every seed, the minority cosine of ResNet18 (K_A = 7) is >= {COLLAPSE_LEVEL} at R = 3000 "
                           "on FashionMNIST and R = 5000 on CIFAR10",
                 settings=[setting_label(g) for g in gs])
