"""The errors newsfacet raises on purpose.

Callers catch :class:`SearchError` for anything the engine refuses; the
subclasses say why.  Bad *input files* are not errors of this kind: the
readers report them as :class:`search.document.ReadFailure` values and go on.
"""


class SearchError(Exception):
    """Base class for every error newsfacet raises deliberately."""


class IndexNotFound(SearchError):
    """No index exists at the given location (run ``newsfacet index`` first)."""


class IndexLocked(SearchError):
    """Another writer holds the index lock."""


class IndexWriteError(SearchError):
    """The index folder cannot be written: a full disk, a read-only file system
    or missing permission.  The index keeps its last complete commit."""


class QuerySyntaxError(SearchError):
    """A query could not be parsed even as plain terms."""


class InvalidParameter(SearchError, ValueError):
    """A search parameter has a value outside its domain.

    :param parameter: the parameter's public name (``page``, ``date`` …), so an
        HTTP layer can point at it.
    """

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


class QueryTimeout(SearchError):
    """A search ran past its time budget and was stopped (the server answers 503)."""


class IndexDamaged(SearchError):
    """A file of the index cannot be read: truncated, corrupt or missing.

    :param path: the damaged file, when it is known.
    """

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path


class BackendUnavailable(SearchError):
    """The search cluster (the OpenSearch backend) cannot be reached, does not answer
    in time, or refuses the credentials given; nothing was changed by the call."""
