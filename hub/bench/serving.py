"""A server in a subprocess (``hub serve`` or the raw route) and the load generator against it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``command`` (argv) serving on 127.0.0.1:``port``, ready once ``/healthz`` answers 200."""

    def __init__(self, command: Sequence[str], port: int, env: dict[str, str] | None = None) -> None:
        self.command = list(command)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **(env or {})}
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"{self.command[2:4]} did not start: {self.output()[-2000:]}")
            time.sleep(0.2)

    def peak_rss_mb(self) -> float | None:
        """The server process's peak resident memory (VmHWM)."""
        if self.process is None:
            return None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the server has used so far, its worker processes included
        (``--workers N``): read before and after a load, the server's own cost of that load."""
        if self.process is None:
            return 0.0
        return sum(_cpu_seconds(pid) for pid in [self.process.pid, *_children(self.process.pid)])

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces); [] once gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)  # utime and stime are the 14th and 15th fields, in clock ticks
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


async def load(**spec: Any) -> dict[str, Any]:
    """Runs ``hub.bench.load.load(**spec)`` in a process of its own; its JSON answer."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.bench.load", json.dumps(spec), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed (exit {process.returncode})")
    answer: dict[str, Any] = json.loads(out)
    return answer
