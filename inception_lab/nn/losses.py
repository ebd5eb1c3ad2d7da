"""Outputs of networks with auxiliary classifiers, and the loss that weights them [GoogLeNet, §5]."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class AuxOutputs(NamedTuple):
    """What a network with auxiliary classifiers returns in train mode [GoogLeNet, §5].

    Attributes:
        logits: the main classifier's logits, (N, num_classes).
        aux_logits: one (N, num_classes) tensor per auxiliary head, from the earliest head to the last
            (GoogLeNet: the head on inception (4a), then the one on (4d)).

    In eval mode the same networks return plain logits: the auxiliary heads are discarded at inference.
    """

    logits: torch.Tensor
    aux_logits: tuple[torch.Tensor, ...]


ModelOutput = torch.Tensor | AuxOutputs


def main_logits(outputs: ModelOutput) -> torch.Tensor:
    """The main classifier's logits, whether ``outputs`` is a tensor or an :class:`AuxOutputs`."""
    return outputs.logits if isinstance(outputs, AuxOutputs) else outputs


def inception_loss(outputs: ModelOutput, target: torch.Tensor, aux_weight: float = 0.3,
                   label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of the main head plus ``aux_weight`` times that of each auxiliary head.

    total = CE(main) + 0.3 * CE(aux1) + 0.3 * CE(aux2) -- "the losses of the auxiliary classifiers were weighted
    by 0.3" [GoogLeNet, §5]. Accepts plain logits too (then it is ordinary cross-entropy), so one training loop
    serves every model.
    """
    if not isinstance(outputs, (torch.Tensor, AuxOutputs)):
        raise ValueError(f"outputs must be a logits tensor or AuxOutputs, got {type(outputs).__name__}.")
    if aux_weight < 0:
        raise ValueError(f"aux_weight must be >= 0, got {aux_weight}.")
    loss = F.cross_entropy(main_logits(outputs), target, label_smoothing=label_smoothing)
    if isinstance(outputs, AuxOutputs):
        for aux in outputs.aux_logits:
            loss = loss + aux_weight * F.cross_entropy(aux, target, label_smoothing=label_smoothing)
    return loss
