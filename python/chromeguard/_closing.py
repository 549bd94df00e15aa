"""`Closing`: the context-manager protocol of everything chromeguard lets you close."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="Closing")


class Closing(ABC):
    """``with`` support: leaving the block calls `_finish()`, which releases everything."""

    @abstractmethod
    def _finish(self) -> None:
        """Releases everything the object holds; idempotent."""

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish()
