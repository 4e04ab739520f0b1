"""bprop.sklearn: sklearn's own estimator checks, then accuracy against sklearn's MLP, weights, incremental
and warm-started training, model selection tools, reproducibility, the model= path and bad inputs."""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import bprop  # noqa: E402
from bprop import nn  # noqa: E402
from bprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _small_model(n_in, n_out):
    return bprop.Sequential([nn.Linear(n_in, 8, seed=1), nn.Tanh(), nn.Linear(8, n_out, seed=2)])


# -- sklearn's own checks: every one must pass, none is marked as an expected failure ------------------
@parametrize_with_checks([MLPClassifier((16,), max_iter=100, learning_rate_init=0.01),
                          MLPRegressor((16,), max_iter=100, learning_rate_init=0.01)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- quality against independent references ----------------------------------------------------------
def test_digits_accuracy_is_in_sklearns_ballpark():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    options = dict(hidden_layer_sizes=(64,), max_iter=30, random_state=0)
    ours = make_pipeline(StandardScaler(), MLPClassifier(**options)).fit(X_train, y_train).score(X_test, y_test)
    theirs = make_pipeline(StandardScaler(), SklearnMLPClassifier(**options)).fit(X_train, y_train).score(X_test,
                                                                                                          y_test)
    assert ours >= 0.93
    assert ours >= theirs - 0.03, (ours, theirs)


def test_regression_r2_on_a_smooth_function():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2
    reg = MLPRegressor((32, 32), activation="tanh", learning_rate_init=0.01, max_iter=200, random_state=0)
    reg.fit(X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) > 0.95


def test_multi_output_regression_keeps_y_shape():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5], X[:, 0] - X[:, 2]])
    reg = MLPRegressor((), learning_rate_init=0.05, max_iter=300, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (120, 2) and reg.n_outputs_ == 2
    assert reg.score(X, Y) > 0.99
    assert MLPRegressor((4,), max_iter=3, random_state=0).fit(X, Y[:, 0]).predict(X).shape == (120,)


# -- labels, probabilities, dtypes -------------------------------------------------------------------
@pytest.mark.parametrize("labels", [np.array(["cat", "dog"]), np.array([False, True]), np.array([3, 7, 11]),
                                    np.array(["a", "b", "c", "d"])])
def test_any_label_type_round_trips(labels):
    X, y_index = load_iris(return_X_y=True)
    keep = y_index < len(labels) if len(labels) < 3 else slice(None)
    X, y = X[keep], labels[y_index[keep] % len(labels)]
    clf = MLPClassifier((16,), learning_rate_init=0.02, max_iter=50, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert set(clf.predict(X)) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(np.unique(y))) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_predictions_match_a_numpy_forward_pass_through_coefs():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((6, 5), activation="tanh", max_iter=10, random_state=0).fit(X, y)
    hidden = X
    for weight, bias in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        hidden = np.tanh(hidden @ weight + bias)
    logits = hidden @ clf.coefs_[-1] + clf.intercepts_[-1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10, atol=1e-13)
    assert [w.shape for w in clf.coefs_] == [(4, 6), (6, 5), (5, 3)]


def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))


def test_float32_fast_path_and_dtype_policy():
    X, y = load_iris(return_X_y=True)
    assert MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y).model_.dtype == np.float64
    assert MLPClassifier((4,), max_iter=2, random_state=0).fit(X.astype(np.float32), y).model_.dtype == np.float32
    fast = MLPClassifier((4,), max_iter=2, random_state=0, dtype="float32").fit(X, y)
    assert fast.model_.dtype == np.float32 and fast.predict_proba(X).dtype == np.float64


# -- weights -----------------------------------------------------------------------------------------
def test_balanced_class_weight_is_sklearns_compute_class_weight():
    X, y = load_iris(return_X_y=True)
    X, y = X[20:], np.array(["x", "y", "z"])[y[20:]]  # unbalanced: 30 / 50 / 50
    options = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    balanced = MLPClassifier(class_weight="balanced", **options).fit(X, y)
    by_hand = MLPClassifier(**options).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_array_equal(balanced.predict_proba(X), by_hand.predict_proba(X))
    as_dict = MLPClassifier(class_weight={"x": 5.0}, **options).fit(X, y)
    by_hand = MLPClassifier(**options).fit(X, y, sample_weight=np.where(y == "x", 5.0, 1.0))
    np.testing.assert_array_equal(as_dict.predict_proba(X), by_hand.predict_proba(X))


def test_one_sgd_step_with_the_l2_penalty_matches_numpy():
    # Full batch, plain SGD, a linear model: one partial_fit is w <- w - lr·(∂MSE/∂w + alpha/n·w), the penalty
    # scaled as sklearn's (alpha over the batch's total weight), on the bias too.
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    lr, alpha = 0.05, 0.7
    reg = MLPRegressor((), solver="sgd", momentum=0.0, learning_rate_init=lr, alpha=alpha, batch_size=40,
                       shuffle=False, random_state=0).partial_fit(X, Y)
    (w,), (b,) = reg.coefs_, reg.intercepts_
    residual_grad = 2 * (X @ w + b - Y) / Y.size
    expected_w = w - lr * (X.T @ residual_grad + alpha / 40 * w)
    expected_b = b - lr * (residual_grad.sum(axis=0) + alpha / 40 * b)
    reg.partial_fit(X, Y)
    np.testing.assert_allclose(reg.coefs_[0], expected_w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(reg.intercepts_[0], expected_b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_weight_two_equals_a_duplicated_row(Estimator):
    X, y = load_iris(return_X_y=True)
    X, y = X[::3], y[::3]
    weights = np.tile([1, 2, 0], len(X) // 3 + 1)[:len(X)]
    options = dict(hidden_layer_sizes=(8,), max_iter=15, shuffle=False, batch_size=1000, tol=0.0, random_state=0,
                   alpha=1e-2)  # full batch, so each epoch sees the same rows
    weighted = Estimator(**options).fit(X, y, sample_weight=weights)
    repeated = Estimator(**options).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    method = "predict_proba" if Estimator is MLPClassifier else "predict"
    np.testing.assert_allclose(getattr(weighted, method)(X), getattr(repeated, method)(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


# -- incremental and continued training ------------------------------------------------------------
def test_partial_fit_progresses_and_checks_classes():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier((16,), learning_rate_init=0.01, batch_size=16, random_state=0)
    with pytest.raises(ValueError, match="classes="):
        clf.partial_fit(X, y)
    for _ in range(30):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 30 and clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.85
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:3], [0, 1, 5])
    reg = MLPRegressor((8,), learning_rate_init=0.01, random_state=0)
    for _ in range(20):
        reg.partial_fit(X[:, :3], X[:, 3])
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_warm_start_continues_where_fit_stopped(Estimator):
    X, y = load_iris(return_X_y=True)
    options = dict(hidden_layer_sizes=(8,), shuffle=False, tol=0.0, n_iter_no_change=1000, random_state=0)
    warm = Estimator(max_iter=5, warm_start=True, **options).fit(X, y)
    warm.fit(X, y)
    straight = Estimator(max_iter=10, **options).fit(X, y)
    assert warm.n_iter_ == 10
    np.testing.assert_array_equal(warm.loss_curve_, straight.loss_curve_)
    cold = Estimator(max_iter=5, **options).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 5


def test_stopping_rule_and_early_stopping_record():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier((16,), learning_rate_init=0.01, max_iter=500, tol=1e-2, n_iter_no_change=3,
                        random_state=0).fit(X, y)
    assert clf.n_iter_ < 500 and clf.best_loss_ == min(clf.loss_curve_) and clf.validation_scores_ is None
    early = MLPClassifier((16,), learning_rate_init=0.01, max_iter=200, early_stopping=True, random_state=0)
    early.fit(X, y)
    assert early.best_loss_ is None and len(early.validation_scores_) == early.n_iter_
    assert early.best_validation_score_ == max(early.validation_scores_)
    switched = clf.set_params(warm_start=True, early_stopping=True, max_iter=3).fit(X, y)  # a warm fit may switch
    assert len(switched.validation_scores_) == 3


# -- model selection tools ---------------------------------------------------------------------------
def test_pipeline_cross_val_score_and_grid_search_in_processes():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((16,), learning_rate_init=0.01, max_iter=60,
                                                         random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.8
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=2, n_jobs=2).fit(X, y)
    assert search.best_score_ > 0.8
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict_proba(X), search.best_estimator_.predict_proba(X))


def test_seeded_fits_are_bit_identical_and_seeds_matter():
    X, y = load_iris(return_X_y=True)
    fit = lambda seed: MLPClassifier((8,), max_iter=10, random_state=seed).fit(X, y).predict_proba(X)  # noqa: E731
    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.array_equal(fit(3), fit(4))


def test_clone_is_unfitted_and_independent():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    weights = np.linspace(0.1, 2.0, len(X))
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(np.average(clf.predict(X) == y, weights=weights))
    copy = clone(clf)
    with pytest.raises(NotFittedError):
        copy.predict(X)
    assert copy.get_params() == clf.get_params()


# -- the model= path ---------------------------------------------------------------------------------
def test_model_parameter_is_cloned_never_trained():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = _small_model(4, 3)
    before = model.get_weights()
    clf = MLPClassifier(model=model, learning_rate_init=0.02, batch_size=16, max_iter=30, random_state=0).fit(X, y)
    assert clf.model_ is not model and "_trainer" not in model.__dict__
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert clf.score(X, y) > 0.8
    assert clone(clf).model is not model
    again = MLPClassifier(model=model, learning_rate_init=0.02, batch_size=16, max_iter=30, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))
    reg = MLPRegressor(model=_small_model(3, 1), max_iter=5, random_state=0).fit(X[:, :3], X[:, 3])
    assert reg.predict(X[:, :3]).shape == (150,)


def test_model_parameter_errors():
    X, y = load_iris(return_X_y=True)
    compiled = _small_model(4, 3).compile(optimizer=bprop.optim.SGD(lr=0.1), loss=nn.CrossEntropy())
    with pytest.warns(UserWarning, match="only its architecture is used"):
        MLPClassifier(model=compiled, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="3 outputs; this data needs 1"):
        MLPRegressor(model=_small_model(4, 3), max_iter=2).fit(X, y)
    with pytest.raises(TypeError, match="bprop.Sequential"):
        MLPClassifier(model="mlp").fit(X, y)
    with pytest.raises(ValueError, match="dtype=float64 differs"):
        MLPClassifier(model=_small_model(4, 3), dtype="float64").fit(X, y)


# -- bad inputs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, match", [
    ({"activation": "swish"}, "unknown activation 'swish'"),
    ({"alpha": -1.0}, "alpha must be in"),
    ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
    ({"solver": "lbfgs"}, "unknown solver"),
    ({"batch_size": 0}, "batch_size"),
    ({"learning_rate_init": 0.0}, "learning_rate_init"),
    ({"max_iter": 0}, "max_iter"),
    ({"early_stopping": True, "validation_fraction": 1.0}, "validation_fraction"),
    ({"dtype": "int8"}, "dtype must be"),
    ({"class_weight": "even"}, "class_weight must be"),
])
def test_bad_hyperparameters_are_named_at_fit(params, match):
    X, y = load_iris(return_X_y=True)
    estimator = MLPClassifier(**{"max_iter": 2, **params})  # sklearn's rule: __init__ stores, fit checks
    with pytest.raises(ValueError, match=match):
        estimator.fit(X, y)


def test_bad_data_raise_clear_errors():
    X, y = load_iris(return_X_y=True)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(bad, y)
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(max_iter=2).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="1d array"):
        MLPClassifier(max_iter=2).fit(X, np.eye(3, dtype=int)[y])
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier(max_iter=2).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="(?i)negative"):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match="(?i)non-zero|sum to 0"):
        MLPRegressor(max_iter=2).fit(X, y, sample_weight=np.zeros(len(X)))
    with pytest.raises(ValueError, match="'balanced' needs the whole dataset"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_verbose_prints_each_epochs_loss(capsys):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((4,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Iteration {i + 1}, loss = {loss:.8f}" for i, loss in enumerate(clf.loss_curve_)]


def test_convergence_warning_when_max_iter_stops_training():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


# -- an optional dependency --------------------------------------------------------------------------
def test_import_bprop_does_not_import_sklearn_and_missing_sklearn_names_the_extra():
    code = ("import sys, bprop; assert 'sklearn' not in sys.modules, 'bprop imported sklearn'\n"
            "sys.modules['sklearn'] = None\n"
            "try:\n    import bprop.sklearn\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "bprop[sklearn]"' in out
