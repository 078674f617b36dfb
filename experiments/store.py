"""Results store: one folder per training run, named by a hash of the run's config.

    <root>/<dataset>_<arch>_KA<K_A>_R<R>_<hash>/
        config.json      every setting that defines the run (see CONFIG_KEYS) + versions
        subset.npz       the chosen training indices and the class order (Section 4.C subset)
        checkpoint.pt    model/optimizer/RNG state every few epochs (``--resume`` continues from it)
        log.jsonl        one line per epoch: loss, accuracy, lr, seconds
        metrics.json     analysis of the finished run (written last: its presence means "finished")

Every file is written atomically.  The report reads runs through :func:`list_runs` / :func:`load_run`.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The settings that define a run; their hash names its folder.  (Where the data came from, the
# progress bar and the number of worker processes do not change a result and are left out.)
CONFIG_KEYS = ("dataset", "arch", "preset", "epochs", "seed", "device", "K_A", "R", "n_majority",
               "n_minority", "wd", "oversample", "bias", "lr", "batch_size", "momentum", "width",
               "class_order", "milestones", "checkpoint_every", "compile", "bf16")
# Settings added later: hashed only when they differ from 0, so the hashes (and folders) of runs
# stored before they existed do not change.
OPTIONAL_CONFIG_KEYS = ("classifier_penalty", "feature_penalty")


def json_number(x: Any) -> Any:
    """JSON has no infinity or NaN: ``R = inf`` is stored as ``"inf"``, an undefined metric as null."""
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None if isinstance(x, float) and math.isnan(x) else x


def from_json_number(x: Any) -> Any:
    return {"inf": math.inf, "-inf": -math.inf}.get(x, x) if isinstance(x, str) else x


def config_hash(config: dict[str, Any]) -> str:
    """Hex digest (12 chars) of the defining keys of ``config``, canonical JSON."""
    key = {k: json_number(config[k]) for k in CONFIG_KEYS if k in config}
    key.update({k: json_number(config[k]) for k in OPTIONAL_CONFIG_KEYS if config.get(k)})
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def run_dir(root: str | Path, config: dict[str, Any]) -> Path:
    """``<root>/<dataset>_<arch>_KA<K_A>_R<R>_<hash>``; readable prefix, hash makes it unique."""
    R = config["R"]
    r = "inf" if math.isinf(R) else f"{R:g}"
    return Path(root) / f"{config['dataset']}_{config['arch']}_KA{config['K_A']}_R{r}_{config_hash(config)}"


@dataclass
class Run:
    """A stored run: its folder, config, and metrics (empty until the run has finished)."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return bool(self.metrics)

    @property
    def log(self) -> list[dict[str, Any]]:
        """Per-epoch log lines (empty if none)."""
        path = self.path / "log.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _load_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    return {k: from_json_number(v) for k, v in data.items()}


def load_run(path: str | Path) -> Run:
    """Load the run stored in ``path`` (``R = "inf"`` comes back as ``math.inf``)."""
    path = Path(path)
    metrics_path = path / "metrics.json"
    return Run(path, _load_json(path / "config.json"), _load_json(metrics_path) if metrics_path.is_file() else {})


def list_runs(root: str | Path = "runs", finished_only: bool = True) -> list[Run]:
    """Every run under ``root`` (sorted by folder name); unfinished ones only if asked."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [load_run(p) for p in sorted(root.iterdir()) if (p / "config.json").is_file()]
    return [r for r in runs if r.finished or not finished_only]
