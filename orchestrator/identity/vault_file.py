"""The embedded token vault: one JSON file of sealed records (mode 0600), written atomically."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path


class FileVault:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.replace(tmp, self.path)

    async def get(self, server: str, slot: str) -> str | None:
        return self._read().get(server, {}).get(slot)

    async def put(self, server: str, slot: str, sealed: str) -> None:
        async with self._lock:
            data = self._read()
            data.setdefault(server, {})[slot] = sealed
            self._write(data)

    async def delete(self, server: str, slot: str) -> None:
        async with self._lock:
            data = self._read()
            if data.get(server, {}).pop(slot, None) is not None:
                self._write(data)

    async def slots(self, server: str) -> list[str]:
        return sorted(self._read().get(server, {}))

    async def close(self) -> None:
        return None
