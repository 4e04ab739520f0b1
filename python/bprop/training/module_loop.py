"""The training loop of a Module: the C++ trainer's interface (start, new_epoch, train_batches,
run_epochs, evaluate), so Trainer drives a Module exactly as it drives a Sequential.

A Module's forward is Python code, so each batch is one Python step: gather the rows, build the graph,
loss, backward, optimizer step. The math is still all C++ (layers, loss, the fused update); only the
per-batch orchestration differs from the Sequential path, which runs whole epochs in one call.
"""
import math

import numpy as np

from .. import _core
from .._mode import evaluating
from ..autograd.tensor import no_grad, tensor

__all__ = ["ModuleLoop"]

_DROPOUT_STREAM = 0xD1B54A32D192ED03  # as trainer.cpp: dropout's stream apart from the shuffle's


def _fresh_totals(n_metrics):
    return {"loss_sum": 0.0, "samples": 0, "batches": 0, "metric_sums": [0.0] * n_metrics, "nonfinite": False,
            "nonfinite_batch": -1}


class ModuleLoop:
    def __init__(self, model, loss, optimizer, metrics):
        self.model, self.loss, self.optimizer, self.metrics = model, loss, optimizer, metrics
        self._metric_sum = getattr(_core, f"metric_sum_{model.dtype.name}")
        self._loss_core = loss.core(model.dtype)
        self._data = None

    # -- the data of one fit ----------------------------------------------------------------------
    def start(self, x, labels, values, sample_weight, batch_size, seed, first_epoch=0):
        self._data = (x, labels, values, sample_weight)
        self._batch_size = int(batch_size)
        self._seed, self._epoch = int(seed), int(first_epoch)
        self._order = np.arange(len(x))

    @property
    def batches_per_epoch(self):
        return -(-len(self._data[0]) // self._batch_size)

    def new_epoch(self, shuffle):
        """As the C++ trainer: epoch e's shuffle and dropout come from epoch_seed(seed, e) alone, so a
        resumed run continues exactly."""
        seed = _core.epoch_seed(self._seed, self._epoch)
        self.optimizer.epoch = self._epoch  # what a per-epoch schedule reads
        self._epoch += 1
        self.model.reseed(seed ^ _DROPOUT_STREAM)
        n = len(self._data[0])
        self._order = _core.epoch_order(seed, bool(shuffle), n)  # the C++ trainer's order: the same batches

    # -- batches ------------------------------------------------------------------------------------
    def _batch_loss(self, out, labels, values, weights, totals):
        """The loss tensor of a batch, with the running sums of loss and metrics updated when finite. The
        targets were checked and converted once for the whole fit: straight to the C++ loss."""
        loss = self._loss_core.graph_forward(out, labels if labels is not None else values, weights)
        value = loss.item()
        if not math.isfinite(value):
            return loss, value
        rows = out.shape[0]
        per_sample = value / rows if self.loss.reduction == "sum" else value
        totals["loss_sum"] += per_sample * rows
        totals["samples"] += rows
        totals["batches"] += 1
        out_array = out.numpy().reshape(rows, -1)
        for m, (name, k, threshold) in enumerate(self.metrics):
            totals["metric_sums"][m] += self._metric_sum(name, k, threshold, out_array, labels, values)
        return loss, value

    def train_batches(self, first, last):
        totals = _fresh_totals(len(self.metrics))
        x, labels, values, weights = self._data
        self.model.train()
        for b in range(first, last):
            rows = self._order[b * self._batch_size:(b + 1) * self._batch_size]
            out = self.model.output_of(tensor(x[rows]))
            loss, value = self._batch_loss(out, _take(labels, rows), _take(values, rows), _take(weights, rows),
                                           totals)
            if not math.isfinite(value):  # never step on a NaN/Inf gradient: stop and say where
                totals["nonfinite"], totals["nonfinite_batch"] = True, b
                break
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return totals

    def run_epochs(self, count, shuffle, validation):
        results = []
        for _ in range(count):
            self.new_epoch(shuffle)
            train = self.train_batches(0, self.batches_per_epoch)
            results.append((train, None if validation is None else self.evaluate(*validation, self._batch_size)))
            if train["nonfinite"]:
                break
        return results

    def evaluate(self, x, labels, values, weights, batch_size):
        totals = _fresh_totals(len(self.metrics))
        with evaluating(), no_grad():  # this call alone: the module's own mode is left as it is
            for start in range(0, len(x), batch_size):
                rows = slice(start, start + batch_size)
                out = self.model.output_of(tensor(x[rows]))
                _, value = self._batch_loss(out, _take(labels, rows), _take(values, rows), _take(weights, rows),
                                            totals)
                if not math.isfinite(value):
                    totals["nonfinite"] = True
        return totals


def _take(array, rows):
    return None if array is None else array[rows]
