"""What Sequential and Module share: compile, fit and evaluate through a Trainer; state dicts; saving."""
from .._checks import flag
from ..io import pickling, saving
from ..training.trainer import Trainer

__all__ = ["Trainable"]


class Trainable:
    def compile(self, optimizer=None, loss=None, metrics=None):
        """Choose the optimizer (bound to this model's parameters if it is not bound yet), the loss and
        the metrics for fit and evaluate."""
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

    def fit(self, x, y, **kwargs):
        """Train on (x, y); see Trainer.fit for the options. Returns a History."""
        trainer = self._compiled("fit")
        if self.in_features is None:
            self.as_batch(x, "fit")
        return trainer.fit(x, y, **kwargs)

    def evaluate(self, x, y, batch_size=256, sample_weight=None):
        """{"loss": ..., <metric>: ...} over (x, y), in evaluation mode."""
        return self._compiled("evaluate").evaluate(x, y, batch_size=batch_size, sample_weight=sample_weight)

    # -- state and files ---------------------------------------------------------------------------
    def state_dict(self):
        """{name: array copy} of every parameter ("0.weight", "fc1.bias", ...), then every buffer."""
        return saving.state_dict(self)

    def load_state_dict(self, state):
        """Assign state_dict()'s output. Every array's name, dtype and shape is checked before any is
        assigned (ValueError naming the first problem)."""
        saving.load_state_dict(self, state, f"[{type(self).__name__}.load_state_dict]")

    def save(self, path, include_optimizer=False):
        """Write this model to one safetensors file, atomically: its architecture (a Sequential's; a
        Module's code stays the user's), weights, buffers and compile settings, and with
        include_optimizer the optimizer's state. bprop.load reads a Sequential back; load_weights puts
        the weights into an existing model."""
        saving.save(self, path, include_optimizer=include_optimizer)

    def load_weights(self, path):
        """Put the weights (and buffers) saved in path into this model, which must have the same
        parameters; nothing is assigned unless the whole file checks out (CheckpointError otherwise)."""
        saving.restore(self, None, path)
