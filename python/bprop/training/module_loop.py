"""The training loop of a Module: the C++ trainer's interface (start, new_epoch, train_batches,
run_epochs, evaluate), so Trainer drives a Module exactly as it drives a Sequential.

A Module's forward is Python code, so each batch is one Python step: gather the rows, build the graph,
loss, backward, optimizer step. The math is still all C++ (layers, loss, the fused update); only the
per-batch orchestration differs from the Sequential path, which runs whole epochs in one call.
"""
import math

import numpy as np

from .. import _core
from .._dtypes import core_class
from .._mode import evaluating
from ..autograd.tensor import no_grad, tensor

__all__ = ["ModuleLoop"]

_DROPOUT_STREAM = 0xD1B54A32D192ED03  # as trainer.cpp: dropout's stream apart from the shuffle's


class ModuleLoop:
    def __init__(self, model, loss, optimizer, metrics):
        self.model, self.loss, self.optimizer, self.metrics = model, loss, optimizer, metrics
        self._loss_core = loss.core(model.dtype)
        # The C++ trainer's own batch accounting: the same loss and metric totals, in the same schema.
        self._accounting = core_class("Accounting", model.dtype)(self._loss_core, metrics)
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
    def _batch_loss(self, out, labels, values, weights, graph):
        """The batch's loss value, added with its metrics to the running totals when finite (the one accounting
        both engines share), and with graph=True the loss tensor to call backward on. The targets were
        checked and converted once for the whole fit: straight to the C++ loss."""
        value = self._accounting.add(out.numpy().reshape(out.shape[0], -1), labels, values, weights)
        if not graph or not math.isfinite(value):
            return None, value
        return self._loss_core.graph_forward(out, labels if labels is not None else values, weights), value

    def train_batches(self, first, last):
        self._accounting.take_totals()  # afresh
        x, labels, values, weights = self._data
        self.model.train()
        nonfinite_batch = None
        for b in range(first, last):
            rows = self._order[b * self._batch_size:(b + 1) * self._batch_size]
            out = self.model.output_of(tensor(x[rows]))
            loss, value = self._batch_loss(out, _take(labels, rows), _take(values, rows), _take(weights, rows),
                                           graph=True)
            if not math.isfinite(value):  # never step on a NaN/Inf gradient: stop and say where
                nonfinite_batch = b
                break
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        totals = self._accounting.take_totals()
        if nonfinite_batch is not None:
            totals["nonfinite"], totals["nonfinite_batch"] = True, nonfinite_batch
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
        self._accounting.take_totals()  # afresh
        nonfinite = False
        with evaluating(), no_grad():  # this call alone: the module's own mode is left as it is
            for start in range(0, len(x), batch_size):
                rows = slice(start, start + batch_size)
                out = self.model.output_of(tensor(x[rows]))
                _, value = self._batch_loss(out, _take(labels, rows), _take(values, rows), _take(weights, rows),
                                            graph=False)
                nonfinite = nonfinite or not math.isfinite(value)
        totals = self._accounting.take_totals()
        totals["nonfinite"] = nonfinite
        return totals


def _take(array, rows):
    return None if array is None else array[rows]
