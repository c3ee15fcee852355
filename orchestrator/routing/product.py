"""A few query rows times a catalogue matrix, the way one BLAS thread does it quickly.

Routing multiplies one to nine rows (a message and its steps) by a catalogue of about a
thousand tools. OpenBLAS (one thread, as this process runs it: `limit_blas_threads`) handles a
single row as a matrix-vector product at the speed memory allows, but a product of two, three or
five rows goes through a slow edge path. Measured on this project's shared 2-core machine, rows x
(512 x 1,000), microseconds of CPU time, as one product / one row at a time: 1 row 36 / 41,
2 rows 196 / 72, 3 rows 281 / 132, 4 rows 149 / 155, 5 rows 235 / 178, 7 rows 301 / 252 (203
padded to 8), 8 rows 223 / 307. So: up to `ROW_BY_ROW` rows one matrix-vector product each;
more, padded with zero rows to a multiple of four and multiplied at once. Either way each row's
result is its own dot products (the last bits may differ from one product: rankings do not).
"""

from __future__ import annotations

import numpy as np

ROW_BY_ROW = 5  # rows up to this many: one matrix-vector product per row
PAD_TO = 4  # more rows: padded to a multiple of this


def product(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """`rows @ matrix` for a (n, d) float32 `rows` and (d, m) `matrix`, as (n, m) float32."""
    rows = np.asarray(rows, dtype=np.float32)
    count = len(rows)
    if count <= ROW_BY_ROW:
        out = np.empty((count, matrix.shape[1]), dtype=np.float32)
        for n in range(count):
            np.dot(rows[n], matrix, out=out[n])
        return out
    padded = -count % PAD_TO
    if padded:
        rows = np.concatenate([rows, np.zeros((padded, rows.shape[1]), dtype=rows.dtype)])
        return (rows @ matrix)[:count]
    return rows @ matrix
