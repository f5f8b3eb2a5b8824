"""The domain exceptions. No HTTP here: the API maps each class to a status once, at its edge.

SintoniaError
├── InvalidArgument               the caller sent something wrong
│   ├── DatasetInvalid            every problem of a dataset, each with its location
│   ├── HyperparametersInvalid
│   ├── UnsupportedRequest        a generation request a tuned model cannot serve
│   └── PayloadTooLarge           a request body past the server's limit
├── NotFound
│   ├── BaseModelNotFound
│   └── TunedModelNotFound
├── AlreadyExists
│   └── TunedModelExists
├── FailedPrecondition
│   └── ModelNotReady             the tuned model is still training, or failed
└── ModelLoadError                weights or an adapter could not be loaded
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SintoniaError(Exception):
    """Base of every error Sintonia raises on purpose; `str(error)` is the user-facing message."""


class InvalidArgument(SintoniaError):
    pass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset.

    `location` names where: "line 3", "row 5", "example 7" or "file"; `field` the key, if any.
    """

    location: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.location}, field '{self.field}'" if self.field else self.location
        return f"{where}: {self.message}"


class DatasetInvalid(InvalidArgument):
    """A dataset failed validation; `problems` lists all of them, not just the first."""

    def __init__(self, problems: Sequence[Problem], source: str = "dataset") -> None:
        self.problems = tuple(problems)
        self.source = source
        count = len(self.problems)
        lines = "\n".join(f"- {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source} has {count} {noun}:\n{lines}")


class HyperparametersInvalid(InvalidArgument):
    pass


class UnsupportedRequest(InvalidArgument):
    pass


class PayloadTooLarge(InvalidArgument):
    """A request body longer than the server accepts, refused before it is read whole."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        sent = f"it declares {declared:,} bytes" if declared is not None else "more was sent"
        # The first sentence is the real API's wording for the same refusal.
        super().__init__(
            f"Request payload size exceeds the limit: {limit} bytes ({sent}). Send a smaller "
            "request: a dataset file may be at most 4 MB."
        )


class NotFound(SintoniaError):
    pass


class BaseModelNotFound(NotFound):
    pass


class TunedModelNotFound(NotFound):
    pass


class PermissionNotFound(NotFound):
    pass


class AlreadyExists(SintoniaError):
    pass


class TunedModelExists(AlreadyExists):
    pass


class Aborted(SintoniaError):
    """A write lost a race with another writer of the same record (a delete, say): reading
    the record again shows what happened, and the request can then be retried."""


class FailedPrecondition(SintoniaError):
    pass


class ModelNotReady(FailedPrecondition):
    pass


class ApiKeyInvalid(SintoniaError):
    def __init__(self) -> None:
        super().__init__("API key not valid. Please pass a valid API key.")


class Unauthenticated(SintoniaError):
    def __init__(self) -> None:
        super().__init__(
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        )


class PermissionDenied(SintoniaError):
    pass


class NoCredentials(PermissionDenied):
    def __init__(self) -> None:
        super().__init__(
            "Method doesn't allow unregistered callers (callers without established "
            "identity). Please use API Key or other form of API consumer identity to call "
            "this API."
        )


class ScopeInsufficient(PermissionDenied):
    def __init__(self, method: str) -> None:
        self.method = method
        super().__init__("Request had insufficient authentication scopes.")


class ResourceExhausted(SintoniaError):
    pass


class ModelLoadError(SintoniaError):
    pass
