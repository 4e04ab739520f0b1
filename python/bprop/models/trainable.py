"""What Sequential and Module share: compile, fit and evaluate through a Trainer; state dicts; saving."""
from __future__ import annotations  # annotations stay text: help() shows ArrayLike, not its expansion

from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike

from .._checks import flag
from ..callbacks import Callback, History
from ..io import pickling, saving
from ..nn.losses import Loss
from ..optim import Optimizer
from ..training.trainer import PathLike, Trainer

__all__ = ["Trainable"]

Model = TypeVar("Model", bound="Trainable")


class Trainable:
    # What the model classes that mix this in provide (declared for type checkers; no runtime effect).
    in_features: Optional[int]
    as_batch: Callable[..., np.ndarray]
    def compile(self: Model, optimizer: Optional[Optimizer] = None, loss: Optional[Loss] = None,
                metrics: Union[str, Sequence[str], None] = None) -> Model:
        """Choose the optimizer, the loss and the metrics that fit and evaluate use.

        Compiling again replaces the earlier choice (and the callbacks' trainer).

        Parameters
        ----------
        optimizer : bprop.optim.Optimizer, optional
            The optimizer, bound here to this model's parameters if it is not bound yet (one optimizer
            serves one model). May be left out for a model that is only evaluated.
        loss : bprop.nn.Loss
            The loss to minimise. Required.
        metrics : str or list of str, optional
            Names of metrics to log besides the loss: ``"accuracy"``, ``"top_k_accuracy"`` (k = 5),
            ``"top_<k>_accuracy"``, ``"mse"``, ``"mae"``.

        Returns
        -------
        Sequential or Module
            This model, so that ``model = Sequential([...]).compile(...)`` works.

        Raises
        ------
        ValueError
            If loss is missing, a metric is unknown, or the optimizer is bound to another model.
        TypeError
            If optimizer, loss or metrics is of the wrong kind.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(3, 2)])
        >>> model.compile(optim.Adam(lr=1e-3), nn.CrossEntropy(), metrics=["accuracy"]) is model
        True
        """
        if loss is None:
            raise ValueError("[compile] needs a loss, e.g. loss=bprop.nn.CrossEntropy()")
        object.__setattr__(self, "_trainer", Trainer(self, optimizer, loss, metrics))
        if optimizer is not None:
            pickling.remember_owner(optimizer, self)
        return self

    def _compiled(self, where):
        trainer = self.__dict__.get("_trainer")
        if trainer is None:
            raise ValueError(f"[{where}] call compile(optimizer=..., loss=..., metrics=...) first")
        return trainer

    @property
    def stop_training(self):
        """Set it to True from a callback to stop fit after the current batch (Keras's model.stop_training)."""
        trainer = self.__dict__.get("_trainer")
        return bool(trainer is not None and trainer.stop_training)

    @stop_training.setter
    def stop_training(self, value):
        trainer = self.__dict__.get("_trainer")
        if trainer is None:
            raise ValueError("[stop_training] the model is not compiled, so nothing trains it")
        trainer.stop_training = flag(value, "value", "stop_training")  # bool(array) would raise NumPy's words

    # The options, their defaults and their descriptions are Trainer.fit's and Trainer.evaluate's, which
    # these forward to; tests/test_api_signatures.py fails if the two drift apart.
    def fit(self, x: ArrayLike, y: ArrayLike, epochs: int = 1, batch_size: int = 32, validation_split: float = 0.0,
            validation_data: Optional[Tuple[ArrayLike, ...]] = None, shuffle: bool = True, seed: Optional[int] = None,
            sample_weight: Optional[ArrayLike] = None, class_weight: Optional[Mapping[int, float]] = None,
            verbose: int = 1, callbacks: Optional[Sequence[Callback]] = None,
            initial_epoch: int = 0, resume_from: Optional[PathLike] = None) -> History:
        """Train the model on (x, y) for a number of epochs.

        Every argument and the whole dataset are checked before any work, so a bad input leaves the model
        unchanged. The data are converted once (x to the model's dtype); each epoch shuffles an index.

        Parameters
        ----------
        x : array_like
            Inputs, shape (n, *sample_shape); integer indices for a model that starts with an Embedding.
        y : array_like
            Targets: class labels (n,) or values (n, outputs) for the loss; for outputs (n, ..., classes),
            a label per position (n, ...).
        epochs : int, default 1
            The index of the last epoch to train (as Keras): with initial_epoch=2 and epochs=5, three
            epochs run.
        batch_size : int, default 32
            Samples per optimizer step; a size above the dataset's is the whole dataset.
        validation_split : float, default 0.0
            The fraction of the samples, taken from the end before any shuffle, held out and evaluated
            after each epoch (logged as ``val_loss``, ``val_<metric>``). In [0, 0.5].
        validation_data : tuple, optional
            ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` to evaluate after each epoch,
            instead of validation_split.
        shuffle : bool, default True
            Shuffle the samples at each epoch.
        seed : int, optional
            Seed of this fit's shuffles and dropout masks (not the weights' initialisation); by default
            one drawn from bprop's generator (``bprop.manual_seed``).
        sample_weight : array_like, optional
            One weight >= 0 per sample (n,), or with a label per position, one per position (n, ...).
        class_weight : dict, optional
            {class index: weight}: each sample's (or position's) weight is multiplied by its label's.
            Labels equal to the loss's ignore_index have no class and are left out.
        verbose : {0, 1, 2}, default 1
            0 silent, 1 a progress bar, 2 one line per epoch.
        callbacks : list of bprop.callbacks.Callback, optional
            Callbacks for this fit, after the trainer's own.
        initial_epoch : int, default 0
            The epoch to start at (to continue an earlier fit's count).
        resume_from : str or os.PathLike, optional
            A checkpoint written by ``callbacks.ModelCheckpoint``: its weights, optimizer state, seed and
            epoch count are restored and training continues exactly as if it had never stopped (same
            thread count). Not with initial_epoch.

        Returns
        -------
        bprop.callbacks.History
            Every epoch's logs (``history.history["loss"]``), and why training stopped early, if it did.

        Raises
        ------
        ValueError
            If the model has no optimizer, an argument is out of range, x and y disagree in length or
            shape, the data hold NaN or Inf, the model is already in a fit, or resume_from does not fit
            this run; also if the model is not compiled.
        TypeError
            If an argument or a callback is of the wrong type.
        bprop.CheckpointError
            If resume_from is not a valid checkpoint of this model.

        Examples
        --------
        >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
        >>> model = bprop.Sequential([nn.Linear(3, 2)]).compile(optim.SGD(lr=0.1), nn.CrossEntropy())
        >>> history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, seed=0, verbose=0)
        >>> sorted(history.history), len(history.history["loss"])
        (['loss', 'val_loss'], 3)
        """
        trainer = self._compiled("fit")
        if self.in_features is None:
            self.as_batch(x, "fit")
        return trainer.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                           validation_data=validation_data, shuffle=shuffle, seed=seed, sample_weight=sample_weight,
                           class_weight=class_weight, verbose=verbose, callbacks=callbacks,
                           initial_epoch=initial_epoch, resume_from=resume_from)

    def evaluate(self, x: ArrayLike, y: ArrayLike, batch_size: int = 256,
                 sample_weight: Optional[ArrayLike] = None) -> Dict[str, float]:
        """The loss and the metrics over (x, y), in evaluation mode (no dropout, BatchNorm's running statistics).

        Parameters
        ----------
        x : array_like
            Inputs, shape (n, *sample_shape).
        y : array_like
            Targets, as for fit.
        batch_size : int, default 256
            Samples per forward pass (the result does not depend on it beyond float rounding).
        sample_weight : array_like, optional
            One weight >= 0 per sample (or per position), as for fit.

        Returns
        -------
        dict
            {"loss": value, <metric name>: value, ...}, means over the samples, weighted when weights are
            given.

        Raises
        ------
        ValueError
            If x and y disagree, the data hold NaN or Inf, or batch_size is below 1; also if the model is
            not compiled.
        TypeError
            If an argument is of the wrong type.

        Examples
        --------
        >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
        >>> model = bprop.Sequential([nn.Linear(3, 2)]).compile(loss=nn.CrossEntropy(), metrics=["accuracy"])
        >>> sorted(model.evaluate(x, y))
        ['accuracy', 'loss']
        """
        return self._compiled("evaluate").evaluate(x, y, batch_size=batch_size, sample_weight=sample_weight)

    # -- state and files ---------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, np.ndarray]:
        """Copies of every parameter, then every buffer, by name.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{"0.weight": ..., "0.bias": ..., "1.running_mean": ...}`` for a Sequential (names by layer
            index), ``{"fc1.weight": ...}`` for a Module (names by attribute). The arrays are copies:
            changing them changes nothing in the model.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(4, 3), nn.BatchNorm(3)])
        >>> list(model.state_dict())
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var']
        """
        return saving.state_dict(self)

    def load_state_dict(self, state: Dict[str, np.ndarray]) -> None:
        """Assign a state dict, as ``state_dict()`` returns one, to this model's parameters and buffers.

        Every array's name, dtype, shape and finiteness is checked before any is assigned, so a bad dict
        leaves the model as it was.

        Parameters
        ----------
        state : dict of str to numpy.ndarray
            One array per parameter and buffer, named as ``state_dict()`` names them, each of the model's
            dtype and the parameter's shape.

        Raises
        ------
        ValueError
            If a name is missing or extra, or an array has the wrong dtype or shape or holds NaN or Inf.
        TypeError
            If `state` is not a dict or a value is not a numpy array.

        Examples
        --------
        >>> a = bprop.Sequential([nn.Linear(4, 3, seed=0)])
        >>> b = bprop.Sequential([nn.Linear(4, 3, seed=1)])
        >>> b.load_state_dict(a.state_dict())
        >>> bool(np.array_equal(a.state_dict()["0.weight"], b.state_dict()["0.weight"]))
        True
        """
        saving.load_state_dict(self, state, f"[{type(self).__name__}.load_state_dict]")

    def save(self, path: PathLike, include_optimizer: bool = False) -> None:
        """Write this model to one safetensors file, atomically.

        The file holds the architecture (a Sequential's; a Module's code stays the user's), the weights,
        the buffers and the compile settings, and with `include_optimizer` the optimizer's state.
        ``bprop.load`` reads a Sequential back; ``load_weights`` puts the weights into an existing model.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write. It is replaced whole or not at all.
        include_optimizer : bool, default False
            Also store the optimizer's state (moments, step count), so training can resume exactly. A
            model without an optimizer has none to store.

        Raises
        ------
        OSError
            If the file cannot be written (the directory is missing or not writable).

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(4, 2)])
        >>> model.save("model.safetensors")
        >>> bprop.load("model.safetensors").predict(np.ones((1, 4), np.float32)).shape
        (1, 2)
        """
        saving.save(self, path, include_optimizer=include_optimizer)

    def load_weights(self, path: PathLike) -> None:
        """Put the weights and buffers saved in a file into this model.

        The model must have the same parameters as the one saved; nothing is assigned unless the whole
        file checks out.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by ``save`` (or a checkpoint).

        Raises
        ------
        bprop.CheckpointError
            If the file is missing, corrupt, or its tensors do not fit this model.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(4, 2, seed=0)]).save("weights.safetensors")
        >>> model = bprop.Sequential([nn.Linear(4, 2, seed=1)])
        >>> model.load_weights("weights.safetensors")
        """
        saving.restore(self, None, path)
