"""Label smoothing [Rethinking, §7] as a loss option of the training loop, against torch's own implementation."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from inception_lab import train
from inception_lab.nn.losses import AuxOutputs, inception_loss
from inception_lab.papers.rethinking import LABEL_SMOOTHING_EPSILON


@pytest.mark.parametrize("eps", [0.0, LABEL_SMOOTHING_EPSILON, 0.3])
def test_inception_loss_matches_torch_cross_entropy_with_label_smoothing(eps):
    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(16, 10, generator=g), torch.randint(0, 10, (16,), generator=g)
    ours = inception_loss(logits, target, label_smoothing=eps)
    torch.testing.assert_close(ours, nn.CrossEntropyLoss(label_smoothing=eps)(logits, target))
    # q'(k|x) = (1 - eps) delta_{k,y} + eps / K [Rethinking, §7], then ordinary cross-entropy with soft targets
    q = (1 - eps) * nn.functional.one_hot(target, 10).float() + eps / 10
    torch.testing.assert_close(ours, -(q * logits.log_softmax(1)).sum(1).mean())
    aux = torch.randn(16, 10, generator=g)
    both = inception_loss(AuxOutputs(logits, (aux,)), target, aux_weight=0.3, label_smoothing=eps)
    expected = nn.CrossEntropyLoss(label_smoothing=eps)
    torch.testing.assert_close(both, expected(logits, target) + 0.3 * expected(aux, target))


def test_fit_trains_on_the_smoothed_loss_and_records_the_plain_one():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 3, 8, 8, generator=g), torch.randint(0, 4, (32,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)

    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 4))

    m = model()
    with torch.no_grad():
        first_smoothed = nn.CrossEntropyLoss(label_smoothing=0.1)(m(x), y).item()
        first_plain = nn.CrossEntropyLoss()(m(x), y).item()
    history, receipt = train.fit(m, loader, epochs=1, lr=0.1, label_smoothing=0.1, device="cpu", progress=False)
    assert history.step_loss[0] == pytest.approx(first_smoothed, rel=1e-6)
    assert history.train_main_loss[0] == pytest.approx(first_plain, rel=1e-6)  # recorded without smoothing
    plain, _ = train.fit(model(), loader, epochs=1, lr=0.1, device="cpu", progress=False)
    assert plain.step_loss[0] == pytest.approx(first_plain, rel=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.0, True, "0.1"])
def test_fit_rejects_bad_label_smoothing(bad):
    loader = DataLoader(TensorDataset(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)), batch_size=2)
    with pytest.raises(ValueError, match=r"label_smoothing must be a (finite )?number"):
        train.fit(nn.Linear(3, 2), loader, epochs=1, lr=0.1, label_smoothing=bad, progress=False)
