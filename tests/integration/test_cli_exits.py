"""How a command ends, run as a user runs it (a real `orchestrator` subprocess): `--version`,
a closed pipe (`| head`), Ctrl-C and no network each give one line, never a traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.fakes.serving import serve

CLI = [sys.executable, "-m", "orchestrator"]


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=120, **kwargs
    )


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    done = _run("--version")
    assert done.returncode == 0 and done.stdout.strip() == (
        f"orchestrator {version('chatops-orchestrator')}"
    )


def test_audit_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    trail = tmp_path / "audit.jsonl"
    record = {
        "ts": time.time(),
        "action": "tool_call",
        "platform": "console",
        "chat": "team",
        "user": "ann",
        "tool": "time/get_current_time",
        "outcome": "ok",
    }
    trail.write_text((json.dumps(record) + "\n") * 20000)
    config = tmp_path / "c.yaml"
    config.write_text(f"audit: {{path: '{trail}'}}\n")
    proc = subprocess.Popen(
        [*CLI, "audit", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert "time/get_current_time" in proc.stdout.readline()  # what `head -1` reads
    proc.stdout.close()  # ... and then `head` exits
    err = proc.stderr.read()
    assert proc.wait(60) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_run_telegram_without_network_says_so_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        "bots:\n  telegram: {token: '123:abc', base_url: 'http://127.0.0.1:1/bot'}\n"
    )
    done = _run("run", "telegram", "--config", str(config))
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    failed = [line for line in lines if "telegram_start_failed" in line]
    assert len(failed) == 1 and "123:abc" not in done.stderr, done.stderr


def test_ctrl_c_in_the_console_ends_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        f"audit: {{path: '{tmp_path / 'audit.jsonl'}'}}\n"
    )
    proc = subprocess.Popen(
        [*CLI, "chat", "--config", str(config)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a suite started in the background by a shell (`make test &`)
        # ignores SIGINT, and a child inherits that, so Ctrl-C would rightly do nothing.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write("/help\n")
    proc.stdin.flush()
    while "/remember" not in (line := proc.stdout.readline()):  # the console is up and waiting
        assert line, proc.stderr.read()
    # Ctrl-C alone ends it: stdin stays open, as a terminal's does (closing it would race
    # the signal with end of input, which ends the console with 0).
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(60)
    finally:
        proc.stdin.close()
    err = proc.stderr.read()
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_health_url_says_why_it_failed() -> None:
    """`health --url` names what went wrong: the status a server answered, or that none did."""
    import http.server
    import socket
    import threading

    class Unhealthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Unhealthy)
    threading.Thread(target=serve, args=(server,), daemon=True).start()
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]
    try:
        answered = _run("health", "--url", f"http://127.0.0.1:{server.server_port}/healthz")
        refused = _run("health", "--url", f"http://127.0.0.1:{free}/healthz")
    finally:
        server.shutdown()
    assert answered.returncode == 2 and answered.stdout.strip().endswith("answers HTTP 503")
    assert refused.returncode == 2 and "does not answer: connection refused" in refused.stdout
    assert "Traceback" not in answered.stderr + refused.stderr
