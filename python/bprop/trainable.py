"""What Sequential and Module share to train through a Trainer: compile, fit and evaluate."""

__all__ = ["Trainable"]


class Trainable:
    def compile(self, optimizer=None, loss=None, metrics=None):
        """Choose the optimizer (bound to this model's parameters if it is not bound yet), the loss and
        the metrics for fit and evaluate."""
        from .trainer import Trainer

        if loss is None:
            raise ValueError("[compile] needs a loss, e.g. loss=bprop.nn.CrossEntropy()")
        object.__setattr__(self, "_trainer", Trainer(self, optimizer, loss, metrics))
        return self

    def _compiled(self, where):
        trainer = self.__dict__.get("_trainer")
        if trainer is None:
            raise ValueError(f"[{where}] call compile(optimizer=..., loss=..., metrics=...) first")
        return trainer

    def fit(self, x, y, **kwargs):
        """Train on (x, y); see Trainer.fit for the options. Returns a History."""
        trainer = self._compiled("fit")
        if self.in_features is None:
            self.as_batch(x, "fit")
        return trainer.fit(x, y, **kwargs)

    def evaluate(self, x, y, batch_size=256, sample_weight=None):
        """{"loss": ..., <metric>: ...} over (x, y), in evaluation mode."""
        return self._compiled("evaluate").evaluate(x, y, batch_size=batch_size, sample_weight=sample_weight)
