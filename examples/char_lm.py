"""A character-level LSTM language model trained on Python's own standard library.

The text is the source of modules from the running interpreter's standard library (present wherever bprop
runs: nothing to download). The network reads 64 characters and predicts, at every position, the next one:
Embedding → LSTM (all steps) → Linear to the vocabulary, with a cross-entropy at every position. The score
is the held-out cross-entropy in bits per character, beside a unigram model (character frequencies alone)
as the baseline; then the model writes some Python of its own.

Run: python examples/char_lm.py
"""
import math
import os
import time

import numpy as np

import bprop
from bprop import nn, optim

CONTEXT = 64             # characters per training sequence
TRAIN_CHARS = 400_000    # of source text, plus a tenth of that held out
EPOCHS = 4
EMBEDDING, HIDDEN = 32, 192


def standard_library_text(chars):
    """Source of the standard library's top-level modules, in a fixed order, until `chars` characters."""
    folder = os.path.dirname(os.__file__)
    pieces, total = [], 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
            pieces.append(f.read())
        total += len(pieces[-1])
        if total >= chars:
            break
    return "".join(pieces)[:chars]


text = standard_library_text(TRAIN_CHARS + TRAIN_CHARS // 10)
text = "".join(c if c == "\n" or " " <= c <= "~" else "?" for c in text)  # printable ASCII and newlines
vocab = sorted(set(text))
index = {c: i for i, c in enumerate(vocab)}
codes = np.array([index[c] for c in text], np.int64)
train, held_out = codes[:TRAIN_CHARS], codes[TRAIN_CHARS:]
print(f"{len(text):,} characters of standard-library source, {len(vocab)} distinct; "
      f"{len(held_out):,} held out")


def sequences(codes, stride):
    """Inputs (n, CONTEXT) and next-character targets (n, CONTEXT) from windows `stride` apart."""
    starts = np.arange(0, len(codes) - CONTEXT - 1, stride)
    x = np.stack([codes[s:s + CONTEXT] for s in starts])
    y = np.stack([codes[s + 1:s + CONTEXT + 1] for s in starts])
    return x, y


x_train, y_train = sequences(train, CONTEXT // 2)
x_test, y_test = sequences(held_out, CONTEXT)

# The baseline: every character predicted from the training text's frequencies (add-one smoothing).
frequencies = (np.bincount(train, minlength=len(vocab)) + 1) / (len(train) + len(vocab))
unigram_bits = float(-np.mean(np.log2(frequencies[y_test])))

bprop.manual_seed(0)
model = bprop.Sequential([
    nn.Embedding(len(vocab), EMBEDDING),
    nn.LSTM(EMBEDDING, HIDDEN, return_sequences=True),  # (CONTEXT, HIDDEN): the state after every character
    nn.Linear(HIDDEN, len(vocab)),                      # (CONTEXT, vocabulary): next-character logits
]).build((CONTEXT,))
model.summary()
# Clipping the gradient's norm is the answer to exploding gradients through time.
model.compile(optim.Adam(lr=3e-3, clipnorm=1.0, schedule=optim.CosineDecay(EPOCHS, per="epoch")), nn.CrossEntropy())
start = time.perf_counter()
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=2)
model_bits = model.evaluate(x_test, y_test)["loss"] / math.log(2)
print(f"held-out cross-entropy: {model_bits:.3f} bits per character "
      f"(unigram baseline {unigram_bits:.3f}); trained in {time.perf_counter() - start:.1f} s")

# Sampling: feed the last CONTEXT characters, draw the next from the softened last-position distribution.
rng = np.random.default_rng(1)
window = list(held_out[:CONTEXT])
written = []
for _ in range(300):
    logits = model.predict(np.array([window]))[0, -1] / 0.7  # temperature 0.7
    p = np.exp(logits - logits.max())
    code = int(rng.choice(len(vocab), p=p / p.sum()))
    written.append(vocab[code])
    window = window[1:] + [code]
print("--- prompt ---\n" + "".join(vocab[c] for c in held_out[:CONTEXT]))
print("--- the model continues ---\n" + "".join(written))

assert model_bits < unigram_bits - 1.5, "expected the LSTM to beat the unigram baseline by 1.5 bits per character"
