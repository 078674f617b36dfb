"""Control 3's frozen random backbone: only the last layer and the features' final linear map train."""
from __future__ import annotations

import pytest
import torch

from experiments.data import load_dataset
from experiments.models import build_model, freeze_backbone
from experiments.presets import preset_configs
from experiments.runner import run_experiment
from experiments.store import config_hash
from experiments.trainer import TrainConfig
from lpm_verify.errors import LPMInputError


def small(**kw) -> TrainConfig:
    base = dict(dataset="fashion-mnist", arch="mlp", width=16, n_majority=40, K_A=5, R=4, epochs=2, wd=5e-4,
                bias=False, checkpoint_every=2, preset="test")
    return TrainConfig(**{**base, **kw})


def test_freeze_keeps_only_the_final_linear_map_and_the_last_layer_trainable():
    model = build_model("mlp", 1, 28, 10, bias=False, width=16)
    trainable = freeze_backbone(model)
    linears = [m for m in model.features.modules() if isinstance(m, torch.nn.Linear)]
    assert {id(p) for p in trainable} == {id(p) for p in [*linears[-1].parameters(), model.classifier.weight]}
    assert not any(p.requires_grad for p in linears[0].parameters())
    with pytest.raises(LPMInputError, match="frozen_backbone"):
        freeze_backbone(build_model("cnn", 1, 28, 10, width=4))


def test_frozen_run_trains_only_what_it_should_and_hashes_apart(tmp_path):
    torch.set_num_threads(1)
    data = load_dataset("fashion-mnist")
    assert config_hash(small().to_dict()) == config_hash({k: v for k, v in small().to_dict().items()
                                                          if k != "frozen_backbone"})  # stored runs keep folders
    assert config_hash(small(frozen_backbone=True).to_dict()) != config_hash(small().to_dict())
    with pytest.raises(LPMInputError, match="frozen_backbone"):
        small(arch="cnn", frozen_backbone=True)
    run = run_experiment(small(frozen_backbone=True), tmp_path, data=data, progress=False, lpm=False)
    state = torch.load(run.path / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]
    torch.manual_seed(0)
    init = build_model("mlp", 1, 28, 10, bias=False, width=16)  # the run's initialisation (seed 0)
    assert torch.equal(state["features.1.weight"], init.features[1].weight)  # first linear map: frozen
    assert not torch.equal(state["features.4.weight"], init.features[4].weight)  # final linear map: trained
    assert run.config["frozen_backbone"] is True and "logit_margin" in run.metrics


def test_frozen_control_preset_is_in_regime_and_small():
    configs = preset_configs("cpu-control-frozen")
    assert len(configs) == 8 and all(c.frozen_backbone and c.K_A == 7 and c.wd == 5e-3 for c in configs)
