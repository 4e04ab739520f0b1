"""Random MLPs mixing every layer and loss: parameter gradients in float32 agree with PyTorch's
autograd on the same weights and inputs (allclose rtol=1e-4, atol=1e-5), as does the loss."""
import numpy as np
import pytest

import bprop
from bprop import nn

torch = pytest.importorskip("torch")


def random_block(rng, width):
    """One random block (bprop layers, torch modules, new width)."""
    kind = rng.integers(0, 8)
    if kind == 0:
        out = int(rng.integers(1, 24))
        return [nn.Linear(width, out)], [torch.nn.Linear(width, out)], out
    if kind == 1:
        name, theirs = [("ReLU", torch.nn.ReLU()), ("Sigmoid", torch.nn.Sigmoid()), ("Tanh", torch.nn.Tanh()),
                        ("GELU", torch.nn.GELU()), ("Identity", torch.nn.Identity())][rng.integers(0, 5)]
        return [getattr(nn, name)()], [theirs], width
    if kind == 2:
        slope = float(rng.uniform(0.01, 0.3))
        return [nn.LeakyReLU(slope)], [torch.nn.LeakyReLU(slope)], width
    if kind == 3:
        alpha = float(rng.uniform(0.5, 2.0))
        return [nn.ELU(alpha)], [torch.nn.ELU(alpha)], width
    if kind == 4:
        return [nn.BatchNorm(width)], [torch.nn.BatchNorm1d(width)], width
    if kind == 5:
        return [nn.LayerNorm(width)], [torch.nn.LayerNorm(width)], width
    if kind == 6:
        return [nn.Dropout(0.0)], [torch.nn.Dropout(0.0)], width
    ours = nn.Residual([nn.Linear(width, width), nn.Tanh()])

    class TorchResidual(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.Tanh())

        def forward(self, x):
            return x + self.body(x)

    return [ours], [TorchResidual()], width


LOSSES = ["MSE", "MAE", "Huber", "CrossEntropy", "CrossEntropy-smooth", "BinaryCrossEntropy"]


def targets(rng, loss_name, rows, outputs):
    if loss_name.startswith("CrossEntropy"):
        return rng.integers(0, outputs, rows)
    if loss_name == "BinaryCrossEntropy":
        return rng.uniform(0, 1, (rows, outputs)).astype(np.float32)
    return rng.standard_normal((rows, outputs)).astype(np.float32)


def loss_pair(loss_name):
    return {
        "MSE": (nn.MSE(), torch.nn.MSELoss()),
        "MAE": (nn.MAE(), torch.nn.L1Loss()),
        "Huber": (nn.Huber(0.5), torch.nn.HuberLoss(delta=0.5)),
        "CrossEntropy": (nn.CrossEntropy(), torch.nn.CrossEntropyLoss()),
        "CrossEntropy-smooth": (nn.CrossEntropy(0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1)),
        "BinaryCrossEntropy": (nn.BinaryCrossEntropy(), torch.nn.BCEWithLogitsLoss()),
    }[loss_name]


@pytest.mark.parametrize("seed", range(30))
def test_random_mlp_gradients_match_pytorch(seed):
    rng = np.random.default_rng(seed)
    bprop.manual_seed(seed)
    width = int(rng.integers(1, 20))
    ours_layers, torch_layers = [], []
    first_in = width
    for _ in range(int(rng.integers(2, 7))):
        ours, theirs, width = random_block(rng, width)
        ours_layers += ours
        torch_layers += theirs
    outputs = int(rng.integers(2, 6))
    ours_layers.append(nn.Linear(width, outputs))
    torch_layers.append(torch.nn.Linear(width, outputs))
    ours_model, torch_model = bprop.Sequential(ours_layers), torch.nn.Sequential(*torch_layers).train()

    ours_params, torch_params = ours_model.parameters(), list(torch_model.parameters())
    assert len(ours_params) == len(torch_params)
    for mine, theirs in zip(ours_params, torch_params):
        value = (rng.standard_normal(mine.shape) * 0.4).astype(np.float32)
        mine.set_value(value)
        with torch.no_grad():
            theirs.copy_(torch.from_numpy(value.T.copy() if value.ndim == 2 else value))  # torch stores Wᵀ

    rows = int(rng.integers(2, 33))
    x = rng.standard_normal((rows, first_in)).astype(np.float32)
    loss_name = LOSSES[seed % len(LOSSES)]
    y = targets(rng, loss_name, rows, outputs)
    ours_loss, torch_loss = loss_pair(loss_name)

    out = ours_model.forward(x, training=True)
    value, grad = ours_loss.forward_backward(out, y)
    ours_model.backward(grad)
    t_out = torch_model(torch.from_numpy(x))
    t_y = torch.from_numpy(np.asarray(y))
    t_value = torch_loss(t_out, t_y)
    t_value.backward()

    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert value == pytest.approx(t_value.item(), rel=1e-4, abs=1e-5)
    for mine, theirs in zip(ours_params, torch_params):
        expected = theirs.grad.numpy().T if theirs.grad.ndim == 2 else theirs.grad.numpy()
        np.testing.assert_allclose(mine.grad, expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{mine.name} in {ours_model!r} with {loss_name}")
