"""Process-wide settings for the encoders' native memory.

glibc's malloc serves a large block (above `M_MMAP_THRESHOLD`, 128 KiB at start) by `mmap` and
gives it back on `free`; but after the first such free it raises the threshold up to 32 MiB
("dynamic threshold"), so from then on every encode's scratch arrays (a few MB each: the
USE-multilingual n-gram windows, ONNX Runtime's outputs) come from the heap and stay resident
after they are freed, one heap per thread that ever encoded. Fixing the threshold turns that
off: a large block is mapped and unmapped each time (a few page faults, microseconds against a
millisecond encode). Measured with both encoders, 500 tools indexed and 134 messages routed:
anonymous RSS 284 -> 230 MB (bench/results/overhead.md has the process figures).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, now fixed
_done = False
_lock = threading.Lock()


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold (once per process). False where there is no glibc."""
    global _done
    with _lock:
        if _done:
            return True
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        except (OSError, AttributeError):  # musl and others: no mallopt, nothing to fix
            return False
        _done = ok
        log.debug("malloc_mmap_threshold_fixed bytes=%d ok=%s", MMAP_THRESHOLD, ok)
        return ok
