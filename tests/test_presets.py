"""Every preset of models.PRESETS: Net(Config), one init_weights vocabulary, and forward shapes = the shape walk."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest
import torch

from inception_lab.models import PRESETS, base
from inception_lab.nn.initialization import INIT_SCHEMES

#: size of the square test input: each preset's smallest accepted input, and an odd size above it
SIZES = ("min", 97)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_forward_hooks_record_the_shape_walks_stage_shapes(name, size):
    torch.manual_seed(0)
    model = PRESETS[name](init_weights="pytorch").eval()
    side = model.min_input_size if size == "min" else size
    recorded: dict[str, tuple[int, ...]] = {}
    hooks = [stage.register_forward_hook(lambda m, i, o, name=stage_name: recorded.__setitem__(name, o.shape[1:]))
             for stage_name, stage in model.main_path()]
    try:
        with torch.no_grad():
            logits = model(torch.zeros(2, model.in_channels, side, side))
    finally:
        for hook in hooks:
            hook.remove()
    assert logits.shape == (2, model.num_classes)
    assert {k: tuple(v) for k, v in recorded.items()} == model.stage_shapes(side, side)
    assert list(recorded) == [stage for stage, _ in model.main_path()]  # every stage ran, in forward order


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_net_of_a_frozen_config(name):
    builder = PRESETS[name]
    with torch.device("meta"):  # no memory, no init cost: only the structure is checked
        model = builder()
    assert isinstance(model, base.InceptionNet)
    config = model.config
    assert dataclasses.is_dataclass(config) and config.__dataclass_params__.frozen
    assert type(config).__name__ == f"{type(model).__name__}Config"
    assert list(inspect.signature(type(model).__init__).parameters) == ["self", "config"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.num_classes = 3
    shared = {"num_classes", "in_channels", "stem", "width_divisor", "dropout", "init_weights"}
    assert shared <= {f.name for f in dataclasses.fields(config)}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_builder_takes_the_one_init_weights_vocabulary(name):
    builder = PRESETS[name]
    parameter = inspect.signature(builder).parameters["init_weights"]
    assert parameter.annotation in ("str", str) and parameter.default in INIT_SCHEMES
    for scheme in INIT_SCHEMES:
        with torch.device("meta"):
            assert builder(init_weights=scheme).config.init_weights == scheme
    for wrong in (True, False, "xavier"):
        with pytest.raises(ValueError, match=re.escape(f"init_weights must be one of {INIT_SCHEMES}")):
            builder(init_weights=wrong)
