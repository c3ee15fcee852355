"""Run a command with a reachable Redis: $REDIS_URL, else 127.0.0.1:6379, else a throwaway one.

The throwaway `redis-server` listens on a free port, keeps nothing on disk, and is stopped when
the command ends; the command sees its address in REDIS_URL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis_server(port: int) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:`port` that keeps nothing on disk, answering when returned."""
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if answers(url):
            return proc
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError(f"redis-server did not start on port {port}")


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    url = os.environ.get("REDIS_URL") or DEFAULT_URL
    proc = None
    if not answers(url):
        if shutil.which("redis-server") is None:
            sys.stderr.write(
                f"with_redis: no Redis at {url} and redis-server is not installed; "
                "Redis tests will fail. Install redis or set REDIS_URL.\n"
            )
        else:
            port = free_port()
            proc, url = start_redis_server(port), f"redis://127.0.0.1:{port}/0"
            sys.stderr.write(f"with_redis: started a throwaway redis-server at {url}\n")
    env = {**os.environ, "REDIS_URL": url}
    try:
        return subprocess.call(command, env=env)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
