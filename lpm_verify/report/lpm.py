"""LPM data for the report's figures: minority-cosine sweeps over R (Fig. 3, Fig. 8, the network
overlays) and every regime threshold, computed by :mod:`lpm_verify.sweep` and
:mod:`lpm_verify.regimes` and cached by their inputs.

The R grid of a sweep is log-spaced from 1 (balanced) past the largest threshold, with every
threshold itself added (so the kink at R_0 is a grid point) and R = inf (Theorem 5's limit; shown in
tables, since a log axis cannot hold it).
"""
from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from lpm_verify.records import jsonable
from lpm_verify.report.cache import Cache, input_key

@dataclass(frozen=True)
class Config:
    """One two-size LPM family: K classes, K_A of them majority, energies E_W, E_H (Eq. 7)."""

    K: int
    K_A: int
    E_W: float
    E_H: float

    @property
    def K_B(self) -> int:
        return self.K - self.K_A

    def label(self) -> str:
        return f"K={self.K}, K_A={self.K_A}, E_W={self.E_W:g}, E_H={self.E_H:g}"


@dataclass
class LPMData:
    """Sweep rows and thresholds of one configuration; ``error`` says why a part is missing."""

    config: Config
    rows: list[dict[str, Any]]
    thresholds: list[dict[str, Any]]
    sweep_error: str | None = None
    threshold_error: str | None = None
    sweep_note: str | None = None


def _revive(row: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`jsonable` on a sweep row: 'inf'/'nan' strings and high-precision strings -> float."""
    out = {}
    for key, value in row.items():
        if isinstance(value, str) and key != "regime":
            try:
                value = float(value)
            except ValueError:
                pass
        out[key] = value
    return out


def _thresholds_job(payload: tuple[int, int, float, float, int]) -> list[dict[str, Any]]:
    import mpmath

    from lpm_verify.regimes import find_thresholds
    K, K_A, E_W, E_H, digits = payload
    out = []
    for t in find_thresholds(K, K_A, E_W, E_H, digits=digits):
        with mpmath.workdps(digits + 5):
            r_text = mpmath.nstr(t.R, digits)
        out.append({"R": r_text, "from_regime": t.from_regime, "to_regime": t.to_regime,
                    "event": t.event, "certificate": jsonable(t.certificate)})
    return out


def _sweep_job(payload: tuple[int, int, float, float, list[float], str]) -> dict[str, Any]:
    """Sweep rows; where the symmetric solver gives up (SolverError), the SDP (Eq. 15, Clarabel) instead,
    with a note saying so."""
    from lpm_verify.errors import SolverError
    from lpm_verify.sweep import sweep
    K, K_A, E_W, E_H, R_values, method = payload
    note = None
    try:
        rows = sweep(K, K_A, E_W, E_H, R_values, method=method)
    except SolverError as exc:
        if method != "symmetric":
            raise
        rows = sweep(K, K_A, E_W, E_H, R_values, method="sdp")
        note = f"method 'symmetric' failed ({exc}); the curve is from method 'sdp' (Eq. 15, Clarabel, float64)"
    return {"rows": [jsonable(row) for row in rows], "note": note}


def r_grid(points: int, thresholds: Iterable[float], r_max: float = 1e3) -> list[float]:
    """``points`` log-spaced R in [1, max(r_max, 3 * largest finite threshold)], the thresholds, and inf."""
    finite = [t for t in thresholds if math.isfinite(t) and t >= 1]
    top = max([r_max] + [3 * t for t in finite])
    grid = set(np.round(np.geomspace(1.0, top, points), 12).tolist()) | set(finite)
    return sorted(grid) + [math.inf]


def _run_all(jobs: list[tuple[str, Any]], fn: Callable[[Any], Any], workers: int, desc: str,
             progress: bool) -> dict[str, Any]:
    """Run ``fn`` on each (key, payload); returns key -> result or key -> Exception."""
    from tqdm import tqdm
    results: dict[str, Any] = {}
    bar = tqdm(total=len(jobs), desc=desc, unit="config", disable=not progress or not jobs)
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {key: pool.submit(fn, payload) for key, payload in jobs}
            for key, fut in futures.items():
                try:
                    results[key] = fut.result()
                except Exception as exc:  # a dependency's failure is reported in its section
                    results[key] = exc
                bar.update()
    else:
        for key, payload in jobs:
            try:
                results[key] = fn(payload)
            except Exception as exc:  # a dependency's failure is reported in its section
                results[key] = exc
            bar.update()
    bar.close()
    return results


def _cached_batch(cache: Cache, kind: str, module: str, items: dict[Config, tuple[dict, Any]],
                  fn: Callable[[Any], Any], jobs: int, progress: bool) -> dict[Config, Any]:
    """Look each item up by key; compute the misses (in parallel); store the successes."""
    keys = {cfg: input_key(kind, params, [module, __name__]) for cfg, (params, _) in items.items()}
    out: dict[Config, Any] = {}
    todo = []
    for cfg, (_, payload) in items.items():
        stored = cache.get(kind, keys[cfg])
        if stored is not None:
            out[cfg] = stored
        else:
            todo.append((keys[cfg], payload))
    results = _run_all(todo, fn, jobs, kind, progress)
    for cfg in items:
        if cfg in out:
            continue
        value = results[keys[cfg]]
        if not isinstance(value, Exception):
            cache.put(kind, keys[cfg], value)
        out[cfg] = value
    return out


def compute(configs: Iterable[Config], cache: Cache, *, points: int = 40, digits: int = 30,
            method: str = "symmetric", jobs: int = 1, progress: bool = False) -> list[LPMData]:
    """Thresholds then sweeps for every configuration (each cached by its inputs)."""
    configs = list(dict.fromkeys(configs))
    data = {cfg: LPMData(cfg, [], []) for cfg in configs}

    items = {cfg: ({"K": cfg.K, "K_A": cfg.K_A, "E_W": cfg.E_W, "E_H": cfg.E_H, "digits": digits},
                   (cfg.K, cfg.K_A, cfg.E_W, cfg.E_H, digits)) for cfg in configs}
    for cfg, value in _cached_batch(cache, "thresholds", "lpm_verify.regimes", items, _thresholds_job,
                                    jobs, progress).items():
        if isinstance(value, Exception):
            data[cfg].threshold_error = f"find_thresholds failed: {type(value).__name__}: {value}"
        else:
            data[cfg].thresholds = value

    items = {}
    for cfg in configs:
        grid = r_grid(points, [float(t["R"]) for t in data[cfg].thresholds])
        items[cfg] = ({"K": cfg.K, "K_A": cfg.K_A, "E_W": cfg.E_W, "E_H": cfg.E_H, "R": [str(r) for r in grid],
                       "method": method}, (cfg.K, cfg.K_A, cfg.E_W, cfg.E_H, grid, method))
    for cfg, value in _cached_batch(cache, "sweep", "lpm_verify.sweep", items, _sweep_job, jobs, progress).items():
        if isinstance(value, Exception):
            data[cfg].sweep_error = f"sweep failed: {type(value).__name__}: {value}"
        else:
            data[cfg].rows = [_revive(r) for r in value["rows"]]
            data[cfg].sweep_note = value["note"]
    return list(data.values())
