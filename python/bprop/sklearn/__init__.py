"""scikit-learn estimators over bprop networks: MLPClassifier and MLPRegressor.

The names and parameters follow ``sklearn.neural_network`` so that swapping the import is enough; the
networks are bprop Sequentials trained by bprop's own fit (one C++ call per epoch). scikit-learn is an
optional dependency (the ``sklearn`` extra), imported only by this package.
"""
try:
    import sklearn  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError('bprop.sklearn needs scikit-learn: pip install "bprop[sklearn]"') from error

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
