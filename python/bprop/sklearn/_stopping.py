"""sklearn's MLP stopping rule as a bprop callback: after each epoch (one C++ call), record the loss and,
with early stopping, the validation score; stop when n_iter_no_change epochs in a row improve on the best
by less than tol."""
import math

from ..callbacks import Callback


class SklearnStopping(Callback):
    """Watches epochs for an estimator; `validation` is None or (score function of the model)."""

    def __init__(self, est, validation_score=None):
        self.est = est
        self.validation_score = validation_score
        self.best_weights = None

    def on_epoch_end(self, epoch, logs):
        est = self.est
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += est._samples_per_epoch
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if not math.isfinite(loss):
            return  # the trainer has stopped already, with a warning saying where
        if self.validation_score is not None:
            score = float(self.validation_score(self.model))
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            improved = score > est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_weights = self.model.get_weights()
        else:
            improved = loss < est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if est._no_improvement_count > est.n_iter_no_change:
            self.model.stop_training = True
            est._converged = True

    def on_train_end(self, logs):
        if self.best_weights is not None:  # early stopping keeps the best epoch's weights, as sklearn does
            self.model.set_weights(self.best_weights)

