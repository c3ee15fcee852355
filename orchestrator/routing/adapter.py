"""A linear adapter on the message vector, learned from labelled requests, and the calibrated
margin that decides how many full schemas a message gets.

MiniLM places a teammate's words ("keep in mind that ...") and a tool's words ("add
observations to entities") apart; a linear map of the message vector, trained to put each
training request closest to the tools that served it, moves the request into the tools' words.
Tool vectors are left as they are (so a catalogue change embeds nothing new) and the map is one
384 x 384 product per message.

Both files are written by `python -m bench.train_router` from training splits only (see
bench/results/routing.md) and shipped beside this module; without them the adapter is the
identity and the margin is `DEFAULT_MARGIN`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from orchestrator.routing.product import product

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ADAPTER_FILE = HERE / "adapter.npy"
CALIBRATION_FILE = HERE / "calibration.json"
DEFAULT_MARGIN = 0.25


class QueryAdapter:
    """`adapt(rows)`: each row mapped by W and re-normalised (the identity without W)."""

    def __init__(self, matrix: np.ndarray | None = None) -> None:
        self.matrix_t = None if matrix is None else np.ascontiguousarray(matrix.T, np.float32)

    @classmethod
    def load(cls, path: Path = ADAPTER_FILE) -> QueryAdapter:
        if not path.exists():
            log.info("routing_adapter_missing path=%s", path)
            return cls()
        return cls(np.load(path).astype(np.float32))

    @property
    def active(self) -> bool:
        return self.matrix_t is not None

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        if self.matrix_t is None:
            return rows
        mapped = product(rows, self.matrix_t)
        norms = np.linalg.norm(mapped, axis=-1, keepdims=True)
        return mapped / np.maximum(norms, 1e-6)


@dataclass(frozen=True, slots=True)
class Calibration:
    """How far under the best tool's score a tool may fall and still get its full schema.

    `margin` is the `coverage` quantile, over training requests, of the gap between the best
    score and the best-ranked needed tool's score: so about `coverage` of requests like the
    training ones get their needed tool as a full schema (within top_k), and the rest find it in
    the directory or through the meta-tool.
    """

    margin: float = DEFAULT_MARGIN
    coverage: float = 0.0
    source: str = "default"

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(float(data["margin"]), float(data["coverage"]), str(data.get("source", "")))
