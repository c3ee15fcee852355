"""The Embedder seam: text to unit-length vectors, shared by memory and routing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Text to unit-length vectors; one shared instance per process."""

    dim: int

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...
