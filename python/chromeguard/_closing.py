"""`Closing`: the context-manager protocol of everything chromeguard lets you close."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="Closing")


class Closing(ABC):
    """``with`` support for a class with an idempotent `close()`."""

    @abstractmethod
    def close(self) -> None:
        """Releases what the object holds."""

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
