"""Variable-length sequences in a Sequential: an Embedding with padding_idx gives the recurrent layer after it
each sample's length (up to its last index that is not padding), so padded steps change neither the
prediction nor the gradient: the numbers of PyTorch's packed sequences."""
import numpy as np
import pytest

import bprop
from bprop import nn, optim

torch = pytest.importorskip("torch")
pack = torch.nn.utils.rnn.pack_padded_sequence
unpack = torch.nn.utils.rnn.pad_packed_sequence

VOCAB, EMBED, HIDDEN, CLASSES, STEPS, PAD = 11, 5, 7, 3, 9, 0


def _padded_batch(rng, rows, lengths=None):
    lengths = rng.integers(1, STEPS + 1, rows) if lengths is None else np.asarray(lengths)
    x = rng.integers(1, VOCAB, (rows, STEPS))
    for r, length in enumerate(lengths):
        x[r, length:] = PAD
    return x.astype(np.int64), lengths


def _model(cell, bidirectional=False, return_sequences=False, dtype="float64"):
    directions = 2 if bidirectional else 1
    return bprop.Sequential([
        nn.Embedding(VOCAB, EMBED, padding_idx=PAD, seed=1, dtype=dtype),
        cell(EMBED, HIDDEN, bidirectional=bidirectional, return_sequences=return_sequences, seed=2, dtype=dtype),
        nn.Linear(directions * HIDDEN, CLASSES, seed=3, dtype=dtype),
    ]).build((STEPS,))


def _torch_copy(model):
    embedding, recurrent, linear = model.layers
    kind = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[recurrent.name]
    rnn = kind(EMBED, HIDDEN, batch_first=True, bidirectional=recurrent.bidirectional).double()
    emb = torch.nn.Embedding(VOCAB, EMBED, padding_idx=PAD).double()
    lin = torch.nn.Linear(linear.weight.value().shape[0], CLASSES).double()
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(embedding.weight.value()))
        for name, parameter in recurrent.named_parameters():
            getattr(rnn, name).copy_(torch.from_numpy(parameter.value()))
        lin.weight.copy_(torch.from_numpy(linear.weight.value().T))
        lin.bias.copy_(torch.from_numpy(linear.bias.value()))
    return emb, rnn, lin


def _torch_forward(modules, x, lengths, return_sequences):
    emb, rnn, lin = modules
    packed = pack(emb(torch.from_numpy(x)), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
    out, h_n = rnn(packed)
    if return_sequences:
        return lin(unpack(out, batch_first=True, total_length=STEPS)[0])
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n
    last = torch.cat([h_n[-2], h_n[-1]], dim=1) if rnn.bidirectional else h_n[-1]
    return lin(last)


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_predictions_ignore_the_padding_as_packed_sequences_do(cell, bidirectional):
    rng = np.random.default_rng(2)
    model = _model(cell, bidirectional)
    x, lengths = _padded_batch(rng, 6, lengths=[1, 9, 4, 2, 9, 5])
    expected = _torch_forward(_torch_copy(model), x, lengths, False).detach().numpy()
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-10, atol=1e-12)
    # A sample's prediction does not depend on what its padding would have been without padding_idx.
    assert model._net.lengths_from_padding


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_a_training_step_matches_torch_on_packed_sequences(cell):
    rng = np.random.default_rng(3)
    model = _model(cell, bidirectional=True)
    modules = _torch_copy(model)
    x, lengths = _padded_batch(rng, 8)
    y = rng.integers(0, CLASSES, 8)
    model.compile(optim.SGD(lr=0.5), nn.CrossEntropy())
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loss = torch.nn.functional.cross_entropy(_torch_forward(modules, x, lengths, False), torch.from_numpy(y))
    loss.backward()
    emb, rnn, lin = modules
    with torch.no_grad():
        for p in [*emb.parameters(), *rnn.parameters(), *lin.parameters()]:
            p -= 0.5 * p.grad
    np.testing.assert_allclose(model.layers[0].weight.value(), emb.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert not model.layers[0].weight.value()[PAD].any()  # the padding row stays zero
    for name, parameter in model.layers[1].named_parameters():
        np.testing.assert_allclose(parameter.value(), getattr(rnn, name).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_per_position_targets_with_ignore_index_match_torch():
    """return_sequences with a cross-entropy at every position, the padded positions' targets ignored."""
    rng = np.random.default_rng(4)
    model = _model(nn.LSTM, return_sequences=True)
    x, lengths = _padded_batch(rng, 5)
    y = rng.integers(0, CLASSES, (5, STEPS))
    y[x == PAD] = -100
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy(ignore_index=-100))
    logits = _torch_forward(_torch_copy(model), x, lengths, True)
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, CLASSES), torch.from_numpy(y).reshape(-1),
                                                 ignore_index=-100)
    assert model.evaluate(x, y)["loss"] == pytest.approx(expected.item(), rel=1e-10)
    predicted = model.predict(x)
    real = x != PAD
    np.testing.assert_allclose(predicted[real], logits.detach().numpy()[real], rtol=1e-10, atol=1e-12)


def test_float32_fit_learns_the_length_of_each_sequence():
    rng = np.random.default_rng(5)
    bprop.manual_seed(0)
    model = bprop.Sequential([nn.Embedding(VOCAB, 8, padding_idx=PAD), nn.GRU(8, 16), nn.Linear(16, STEPS + 1)])
    model.build((STEPS,)).compile(optim.Adam(lr=2e-2), nn.CrossEntropy(), metrics=["accuracy"])
    x, lengths = _padded_batch(rng, 512)
    history = model.fit(x, lengths, epochs=30, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.9  # counting steps needs the lengths to be respected


def test_a_sample_of_padding_alone_is_refused_before_any_work():
    rng = np.random.default_rng(6)
    model = _model(nn.LSTM, dtype="float32")
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    x, _ = _padded_batch(rng, 4)
    x[2] = PAD
    before = [p.value().copy() for p in model.parameters()]
    message = r"sample 2 is padding alone \(padding_idx 0\); the LSTM after the Embedding needs at least one step"
    for call in (lambda: model.fit(x, np.zeros(4, np.int64), verbose=0), lambda: model.predict(x),
                 lambda: model.evaluate(x, np.zeros(4, np.int64)), lambda: model.forward(x)):
        with pytest.raises(ValueError, match=message):
            call()
    for old, parameter in zip(before, model.parameters()):
        np.testing.assert_array_equal(old, parameter.value())


def test_without_padding_idx_or_a_recurrent_layer_next_no_lengths_are_taken():
    plain = bprop.Sequential([nn.Embedding(VOCAB, EMBED), nn.LSTM(EMBED, HIDDEN)]).build((STEPS,))
    not_next = bprop.Sequential([nn.Embedding(VOCAB, EMBED, padding_idx=0), nn.Linear(EMBED, EMBED),
                                 nn.LSTM(EMBED, HIDDEN)]).build((STEPS,))
    assert not plain._net.lengths_from_padding and not not_next._net.lengths_from_padding
    x = np.zeros((2, STEPS), np.int64)  # padding alone is an ordinary input here
    assert not_next.predict(x).shape == (2, HIDDEN)
