"""MLPClassifier: sklearn's multi-layer perceptron classifier, trained by bprop (softmax cross-entropy)."""
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target

from .. import nn
from ._base import BaseMLP

__all__ = ["MLPClassifier"]


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier trained by bprop's C++ loop, with sklearn's interface.

    The parameters, attributes and stopping rule are those of ``sklearn.neural_network.MLPClassifier``, so
    swapping the import is enough. The network ends in one logit per class (two for a binary problem) under
    softmax cross-entropy.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear (softmax regression) model.
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
        Hold out ``validation_fraction`` of the data (stratified), stop on its accuracy and keep the best
        epoch's weights.
    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping`` is True.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's hyperparameters.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    class_weight : dict, "balanced" or None, default=None
        Weight of each class (by label); "balanced" is ``n_samples / (n_classes * bincount(y))``.
    model : bprop.Sequential or None, default=None
        An uncompiled network to train instead of the one ``hidden_layer_sizes`` describes; it must end in one
        logit per class (no Softmax). It is cloned through its config at fit (with new seeds from
        ``random_state``), never trained itself.
    dtype : {"float32", "float64"} or None, default=None
        The dtype the network computes in. None follows the data as sklearn's MLP does (float32 X trains in
        float32, other X in float64), or a ``model``'s dtype; "float32" is the fast path for float64 data.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    model_ : bprop.Sequential
        The trained network.
    coefs_ : list of ndarray
        The weight matrix (n_in, n_out) of each Linear layer (copies).
    intercepts_ : list of ndarray
        The bias of each Linear layer (copies).
    loss_ : float
        The last epoch's training loss.
    loss_curve_ : list of float
        The training loss of each epoch (without the L2 term).
    best_loss_ : float or None
        The lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float or None
        The validation accuracy of each epoch with ``early_stopping``.
    best_validation_score_ : float or None
        The best validation accuracy with ``early_stopping``.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    n_layers_ : int
        Number of layers of the network (activations included).
    n_outputs_ : int
        Number of outputs (classes).
    n_features_in_ : int
        Number of features seen at fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The feature names, when X had string column names.

    Examples
    --------
    >>> from bprop.sklearn import MLPClassifier
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]] * 10)
    >>> y = np.array(["no", "yes", "yes", "no"] * 10)
    >>> clf = MLPClassifier((16,), learning_rate_init=0.05, max_iter=300, random_state=0).fit(X, y)
    >>> clf.predict([[0., 1.], [1., 1.]]).tolist()
    ['yes', 'no']
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, class_weight=None, model=None, dtype=None):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate_init=learning_rate_init, max_iter=max_iter, shuffle=shuffle,
                         random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
                         momentum=momentum, nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         n_iter_no_change=n_iter_no_change, model=model, dtype=dtype)
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples.
        y : array-like of shape (n_samples,)
            The class labels (any sortable labels: ints, strings, bools).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample; weight 2 counts as a duplicated row.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For a bad hyperparameter, NaN or infinite inputs, fewer than two classes, or negative weights.

        Examples
        --------
        >>> from bprop.sklearn import MLPClassifier
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0, 0, 1, 1])
        >>> MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y).n_iter_
        5
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on (X, y), continuing from the previous calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples of this chunk.
        y : array-like of shape (n_samples,)
            Their class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class label the chunks will contain; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : MLPClassifier
            The estimator, trained one more epoch.

        Raises
        ------
        ValueError
            When ``classes`` is missing on the first call or differs later, or y has an unknown label.

        Examples
        --------
        >>> from bprop.sklearn import MLPClassifier
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0, 0, 1, 1])
        >>> clf = MLPClassifier((4,), random_state=0)
        >>> clf = clf.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
        >>> clf.n_iter_
        2
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict(self, X):
        """The most likely class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted labels, from ``classes_``.

        Examples
        --------
        >>> from bprop.sklearn import MLPClassifier
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array(["a", "a", "b", "b"])
        >>> clf = MLPClassifier((8,), learning_rate_init=0.1, max_iter=100, random_state=0).fit(X, y)
        >>> clf.predict([[0.], [3.]]).tolist()
        ['a', 'b']
        """
        scores = self._network_output(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_log_proba(self, X):
        """The log of each class's probability for each sample (log-softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.

        Examples
        --------
        >>> from bprop.sklearn import MLPClassifier
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0, 0, 1, 1])
        >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
        >>> clf.predict_log_proba(X).shape
        (4, 2)
        """
        return _log_softmax(self._network_output(X))

    def predict_proba(self, X):
        """Each class's probability for each sample (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities (rows sum to 1), columns in the order of ``classes_``.

        Examples
        --------
        >>> from bprop.sklearn import MLPClassifier
        >>> X, y = np.array([[0.], [1.], [2.], [3.]]), np.array([0, 0, 1, 1])
        >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
        >>> bool(np.allclose(clf.predict_proba(X).sum(axis=1), 1.0))
        True
        """
        return np.exp(_log_softmax(self._network_output(X)))

    # -- BaseMLP hooks ------------------------------------------------------------------------------------
    def _y_validation_options(self):
        return {}

    def _check_targets(self, y, continuing, classes, where):
        """y as class indices into classes_ (set on the first fit, or from partial_fit's classes)."""
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"Unknown label type: {kind!r}. [{where}] y must hold class labels (binary or "
                             "multiclass)")
        incremental = where.endswith("partial_fit")
        if not continuing:
            if incremental and classes is None:
                raise ValueError(f"[{where}] the first call needs classes=, every label the chunks will contain")
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(found) < 2:
                raise ValueError(f"[{where}] needs at least 2 classes; got 1 class ({found[0]!r})")
            self.classes_ = found
            self.n_outputs_ = len(found)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"[{where}] classes={classes!r} differs from the first call's {self.classes_!r}")
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"[{where}] y has labels not in classes_ {self.classes_.tolist()}: "
                             f"{unknown[:5].tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _weights(self, labels, sample_weight, incremental, where):
        """sample_weight times the class weights, or None when neither is given."""
        weights = sample_weight
        if self.class_weight is not None:
            weights = self._class_weights(labels, incremental, where)[labels]
            if sample_weight is not None:
                weights = weights * sample_weight
        if weights is not None and not incremental and len(np.unique(labels[weights > 0])) < 2:
            raise ValueError(f"[{where}] the weights leave fewer than 2 classes with a positive weight")
        return weights

    def _class_weights(self, labels, incremental, where):
        """The weight of each class of classes_, from class_weight."""
        if isinstance(self.class_weight, dict):
            return compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_[labels])
        if not (isinstance(self.class_weight, str) and self.class_weight == "balanced"):
            raise ValueError(f"[{where}] class_weight must be a dict {{label: weight}}, 'balanced' or None; got "
                             f"{self.class_weight!r:.60}")
        if incremental:
            raise ValueError(f"[{where}] class_weight='balanced' needs the whole dataset; give partial_fit a dict "
                             "{label: weight} (compute_class_weight on all the labels gives it)")
        present = np.unique(labels)  # a class absent from y has no samples to weigh
        per_class = np.ones(len(self.classes_))
        per_class[present] = compute_class_weight("balanced", classes=self.classes_[present], y=self.classes_[labels])
        return per_class

    def _loss(self):
        return nn.CrossEntropy()

    def _validation_score(self, model, X, labels):
        predicted = np.argmax(model.predict(X, batch_size=min(4096, len(X))), axis=1)
        return float(np.mean(predicted == labels))

    def _stratify(self, labels):
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
