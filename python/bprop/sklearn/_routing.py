"""The set_{method}_request methods of sklearn's metadata routing, written out so that they carry our own
docstrings: sklearn generates them only for estimators that do not define them, and its generated ones
have no summary line or example. Each defers to sklearn's own request machinery."""
from sklearn.utils._metadata_requests import RequestMethod
from sklearn.utils.metadata_routing import UNCHANGED


def _request(estimator, method, sample_weight):
    return RequestMethod(method, ["sample_weight"]).__get__(estimator, type(estimator))(sample_weight=sample_weight)


class SampleWeightRequests:
    """set_fit_request, set_partial_fit_request and set_score_request for estimators taking sample_weight."""

    def set_fit_request(self, *, sample_weight=UNCHANGED):
        """Ask a meta-estimator to pass ``sample_weight`` to ``fit`` (sklearn's metadata routing).

        Parameters
        ----------
        sample_weight : bool, None, str or UNCHANGED, default=UNCHANGED
            True to request it, False not to, None to raise if given, a string to request it under that alias.

        Returns
        -------
        self : estimator
            This estimator, with the request recorded.

        Examples
        --------
        >>> import sklearn
        >>> from bprop.sklearn import MLPClassifier
        >>> with sklearn.config_context(enable_metadata_routing=True):
        ...     clf = MLPClassifier().set_fit_request(sample_weight=True)
        >>> clf.get_metadata_routing().fit.requests
        {'sample_weight': True}
        """
        return _request(self, "fit", sample_weight)

    def set_partial_fit_request(self, *, sample_weight=UNCHANGED):
        """Ask a meta-estimator to pass ``sample_weight`` to ``partial_fit`` (sklearn's metadata routing).

        Parameters
        ----------
        sample_weight : bool, None, str or UNCHANGED, default=UNCHANGED
            True to request it, False not to, None to raise if given, a string to request it under that alias.

        Returns
        -------
        self : estimator
            This estimator, with the request recorded.

        Examples
        --------
        >>> import sklearn
        >>> from bprop.sklearn import MLPRegressor
        >>> with sklearn.config_context(enable_metadata_routing=True):
        ...     reg = MLPRegressor().set_partial_fit_request(sample_weight=True)
        >>> reg.get_metadata_routing().partial_fit.requests
        {'sample_weight': True}
        """
        return _request(self, "partial_fit", sample_weight)

    def set_score_request(self, *, sample_weight=UNCHANGED):
        """Ask a meta-estimator to pass ``sample_weight`` to ``score`` (sklearn's metadata routing).

        Parameters
        ----------
        sample_weight : bool, None, str or UNCHANGED, default=UNCHANGED
            True to request it, False not to, None to raise if given, a string to request it under that alias.

        Returns
        -------
        self : estimator
            This estimator, with the request recorded.

        Examples
        --------
        >>> import sklearn
        >>> from bprop.sklearn import MLPClassifier
        >>> with sklearn.config_context(enable_metadata_routing=True):
        ...     clf = MLPClassifier().set_score_request(sample_weight=False)
        >>> clf.get_metadata_routing().score.requests
        {'sample_weight': False}
        """
        return _request(self, "score", sample_weight)
