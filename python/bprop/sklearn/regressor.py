"""MLPRegressor: sklearn's multi-layer perceptron regressor, trained by bprop (mean squared error)."""
import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from .. import nn
from ._base import BaseMLP

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor trained by bprop's C++ loop, with sklearn's interface.

    The parameters, attributes and stopping rule are those of ``sklearn.neural_network.MLPRegressor``, so
    swapping the import is enough. The network ends in one linear output per target under the mean squared
    error (``loss_curve_`` holds that mean, where sklearn reports half of it). y may be 2-D (several targets).

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation between the layers.
    solver : {"adam", "sgd"}, default="adam"
        The optimizer (bprop's Adam or SGD with momentum).
    alpha : float, default=1e-4
        L2 penalty, scaled as sklearn's (``alpha/2·‖W‖²`` over a batch's total sample weight): coupled weight
        decay ``alpha / b`` with ``b`` a batch's expected total weight in the first data fit. It applies to the
        biases too (sklearn leaves them out).
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        The learning rate.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Whether to shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Decides the initial weights, the shuffles and the validation split; an int makes fits reproducible.
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        When True, ``fit`` continues from the previous fit's network and optimizer state.
    momentum : float, default=0.9
        Momentum of the "sgd" solver.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for the "sgd" solver.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop on its R² and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping`` is True.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's hyperparameters.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    model : bprop.Sequential or None, default=None
        An uncompiled network to train instead of the one ``hidden_layer_sizes`` describes, with one output
        per target. It is cloned through its config at fit (with new seeds from ``random_state``), never
        trained itself.
    dtype : {"float32", "float64"} or None, default=None
        The dtype the network computes in. None follows the data as sklearn's MLP does (float32 X trains in
        float32, other X in float64), or a ``model``'s dtype; "float32" is the fast path for float64 data.

    Attributes
    ----------
    model_ : bprop.Sequential
        The trained network.
    coefs_ : list of ndarray
        The weight matrix (n_in, n_out) of each Linear layer (copies).
    intercepts_ : list of ndarray
        The bias of each Linear layer (copies).
    loss_ : float
        The last epoch's training loss.
    loss_curve_ : list of float
        The training loss (mean squared error) of each epoch.
    best_loss_ : float or None
        The lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float or None
        The validation R² of each epoch with ``early_stopping``.
    best_validation_score_ : float or None
        The best validation R² with ``early_stopping``.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    n_layers_ : int
        Number of layers of the network (activations included).
    n_outputs_ : int
        Number of targets.
    n_features_in_ : int
        Number of features seen at fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The feature names, when X had string column names.

    Examples
    --------
    >>> from bprop.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1)
    >>> y = 3 * X[:, 0] + 1
    >>> reg = MLPRegressor((), learning_rate_init=0.1, max_iter=300, random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.99)
    True
    """

    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample; weight 2 counts as a duplicated row.

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            For a bad hyperparameter, NaN or infinite inputs, or negative weights.

        Examples
        --------
        >>> from bprop.sklearn import MLPRegressor
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0., 1., 2., 3.])
        >>> MLPRegressor((4,), max_iter=5, random_state=0).fit(X, y).n_iter_
        5
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on (X, y), continuing from the previous calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples of this chunk.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Their targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : MLPRegressor
            The estimator, trained one more epoch.

        Examples
        --------
        >>> from bprop.sklearn import MLPRegressor
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0., 1., 2., 3.])
        >>> reg = MLPRegressor((4,), random_state=0).partial_fit(X, y).partial_fit(X, y)
        >>> reg.n_iter_
        2
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """The predicted targets of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions in float64, 1-D when the training y was 1-D.

        Examples
        --------
        >>> from bprop.sklearn import MLPRegressor
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0., 1., 2., 3.])
        >>> MLPRegressor((4,), max_iter=5, random_state=0).fit(X, y).predict(X).shape
        (4,)
        """
        out = self._network_output(X)
        return out[:, 0] if self._y_is_1d else out

    # -- BaseMLP hooks ------------------------------------------------------------------------------------
    def _y_validation_options(self):
        return {"multi_output": True, "y_numeric": True}

    def _check_targets(self, y, continuing, classes, where):
        """y as a float (n, n_targets) array; the number of targets is fixed by the first fit."""
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 and y.ndim != 2:
            raise ValueError(f"[{where}] y must be 1-D or 2-D; got shape {y.shape}")
        targets = y.reshape(len(y), -1)
        if not continuing:
            self._y_is_1d = y.ndim == 1
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(f"[{where}] y has {targets.shape[1]} targets; the first fit had {self.n_outputs_}")
        return targets

    def _weights(self, targets, sample_weight, incremental, where):
        return sample_weight

    def _loss(self):
        return nn.MSE()

    def _validation_score(self, model, X, targets):
        return float(r2_score(targets, model.predict(X, batch_size=min(4096, len(X)))))

    def _stratify(self, targets):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
