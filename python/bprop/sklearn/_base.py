"""What MLPClassifier and MLPRegressor share: checking the data with sklearn's helpers, building and compiling
the bprop network, and training it with bprop's fit (one C++ call per epoch, sklearn's stopping rule in a
callback between epochs)."""
import math
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import nn
from ._network import build_network, check_hyperparameters, make_optimizer, network_dtype, warn_if_compiled
from ._routing import SampleWeightRequests
from ._stopping import SklearnStopping

_AUTO_BATCH = 200  # sklearn's batch_size="auto": min(200, n_samples)
_PREDICT_BATCH = 4096
_SEED_LIMIT = 2**31 - 1


class BaseMLP(SampleWeightRequests, BaseEstimator):
    """The shared fit machinery; subclasses define the targets, the loss and the validation score."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, model=None, dtype=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.model = model
        self.dtype = dtype

    # -- subclass hooks --------------------------------------------------------------------------------
    # _y_validation_options() -> validate_data's options for y
    # _check_targets(y, continuing, classes, where) -> the targets the loss takes (sets classes_/n_outputs_)
    # _weights(targets, sample_weight, incremental, where) -> one weight per sample, or None
    # _loss() -> a bprop loss;  _validation_score(model, X, targets) -> float;  _stratify(targets) -> array or None

    # -- fitting -----------------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, incremental, classes=None):
        where = f"{type(self).__name__}.{'partial_fit' if incremental else 'fit'}"
        check_hyperparameters(self, where)
        continuing = hasattr(self, "model_") and (incremental or self.warm_start)
        if continuing:
            dtype = self.model_.dtype
        elif self.dtype is None and self.model is None:
            dtype = (np.float64, np.float32)  # the data's own float dtype (ints and others become float64)
        else:
            dtype = network_dtype(self, where)
        X, y = validate_data(self, X, y, reset=not continuing, dtype=dtype, order="C",
                             **self._y_validation_options())
        targets = self._check_targets(y, continuing, classes, where)
        weights = self._weights(targets, None if sample_weight is None else
                                _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True),
                                incremental, where)
        if weights is not None and not weights.sum() > 0:
            raise ValueError(f"[{where}] the sample weights sum to 0: there is nothing to fit")
        if continuing:
            model = self.model_
            self._match_record_to_early_stopping()
        else:
            warn_if_compiled(self.model)
            self._rng = check_random_state(self.random_state)
            model = build_network(self, X.shape[1], self.n_outputs_, X.dtype, self._rng, where)
        rng = self._rng
        validation_score = None
        if self.early_stopping and not incremental:
            X, X_val, targets, targets_val, weights = self._split(X, targets, weights, rng)
            validation_score = lambda model: self._validation_score(model, X_val, targets_val)  # noqa: E731
        total_weight = len(X) if weights is None else float(weights.sum())
        if total_weight <= 0:
            raise ValueError(f"[{where}] the training part's sample weights sum to 0: there is nothing to fit")
        if weights is not None:
            # Weights of mean 1: bprop's loss divides Σ wᵢ·lᵢ by the number of rows, so this makes it the
            # weighted mean Σ wᵢ·lᵢ / Σ wᵢ, and weight 2 the same as a duplicated row.
            weights = weights * (len(X) / total_weight)
        batch = min(_AUTO_BATCH if isinstance(self.batch_size, str) else self.batch_size, len(X))
        if not continuing:
            # sklearn adds alpha/2·‖W‖² / (the batch's total sample weight) to each batch's loss: coupled weight
            # decay alpha / (a batch's expected total weight), fixed by the first data (exact in full batch).
            decay = float(self.alpha) * len(X) / (total_weight * batch)
            model.compile(optimizer=make_optimizer(self, decay), loss=self._loss())
            self.model_ = model  # only now: a fit refused above leaves no half-made network behind
            self._start_record()
        self._no_improvement_count, self._converged = 0, False
        self._samples_per_epoch = len(X)
        stopping = SklearnStopping(self, validation_score)
        epochs = 1 if incremental else self.max_iter
        self.model_.fit(X, targets, epochs=epochs, batch_size=batch, shuffle=bool(self.shuffle),
                        seed=int(rng.randint(0, _SEED_LIMIT)), sample_weight=weights, verbose=0, callbacks=[stopping])
        self.loss_ = self.loss_curve_[-1]
        if not (incremental or self._converged or self.model_.stop_training) and math.isfinite(self.loss_):
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization "
                          "hasn't converged yet.", ConvergenceWarning)
        return self

    def _start_record(self):
        """The training record of a new network (a fit that does not continue: not warm_start, not partial_fit)."""
        self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.n_layers_ = len(self.model_.layers)

    def _match_record_to_early_stopping(self):
        """A warm-started fit may switch early_stopping: start the record the other mode keeps."""
        if self.early_stopping and self.validation_scores_ is None:
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        if not self.early_stopping and self.best_loss_ is None:
            self.best_loss_ = np.inf

    def _split(self, X, targets, weights, rng):
        """(X_train, X_val, targets_train, targets_val, weights_train): sklearn's validation_fraction split."""
        parts = [X, targets] + ([] if weights is None else [weights])
        split = train_test_split(*parts, test_size=self.validation_fraction, random_state=rng.randint(0, _SEED_LIMIT),
                                 stratify=self._stratify(targets))
        X_train, X_val, t_train, t_val = split[:4]
        return X_train, X_val, t_train, t_val, (split[4] if weights is not None else None)

    # -- prediction ---------------------------------------------------------------------------------------
    def _network_output(self, X):
        """The network's outputs (n, outputs) for X, in float64 (sklearn's expectation for predictions)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype, order="C")
        return self.model_.predict(X, batch_size=min(_PREDICT_BATCH, len(X))).astype(np.float64)

    def _linear_layers(self):
        check_is_fitted(self)
        return [layer for layer in self.model_.layers if isinstance(layer, nn.Linear)]

    @property
    def coefs_(self):
        """The weight matrix (n_in, n_out) of each Linear layer of the trained network, as sklearn's MLP has them
        (copies: change the network through ``model_``)."""
        return [layer.weight.value() for layer in self._linear_layers()]

    @property
    def intercepts_(self):
        """The bias vector of each Linear layer of the trained network (zeros for a layer without bias)."""
        return [np.zeros(layer.out_features, self.model_.dtype) if layer.bias is None else layer.bias.value()
                for layer in self._linear_layers()]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
