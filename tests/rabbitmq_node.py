"""A private RabbitMQ node for tests that stop, restart or kill a broker (TESTING.md's recipe).

The machine's shared broker (``rabbit@localhost`` on 127.0.0.1:5672) serves every other test and
every other engineer: a test must never stop or kill it. So a test that needs a broker to go away
starts a node of its own: own node name, own AMQP and distribution ports, own data, log, pid and
plugins files in a temporary directory owned by the ``rabbitmq`` user (the server drops to that
user), and its own config file, because ``/etc/rabbitmq/rabbitmq.conf`` pins the listener to 5672.

Use it as a context manager, or as a pytest fixture made by :func:`private_node_fixture` (one node
per module: a start costs ~15-20 s). Under ``CI=true`` a node that cannot start fails the test;
locally the test is skipped, like every other missing service (``tests.conftest.require``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

SHARED_BROKER_PORT = 5672
STARTUP_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60


class NodeError(RuntimeError):
    """The private node did not start or stop as asked."""


def free_port() -> int:
    """A port nobody listens on now (the OS picks it; the tiny race is acceptable in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _chown_to_rabbitmq(path: Path) -> None:
    try:
        user = pwd.getpwnam("rabbitmq")
    except KeyError:
        return  # not a Debian package install: the server runs as the current user
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
            os.chown(name, user.pw_uid, user.pw_gid)


class RabbitNode:
    """One private RabbitMQ node; ``stop()`` + ``start()`` reuse the same data directory."""

    def __init__(self, base_dir: Path, *, management: bool = False) -> None:
        self.base_dir = base_dir
        self.management = management
        host = socket.gethostname().split(".")[0]
        self.name = f"hubt{secrets.token_hex(4)}@{host}"
        self.port = free_port()
        self.dist_port = free_port()
        if self.port == SHARED_BROKER_PORT or self.name.startswith("rabbit@"):
            raise NodeError("refusing to run a private node that looks like the shared broker")
        self.pid_file = base_dir / "pid"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        # With the management plugin (``management=True``): its HTTP API on a port of its own.
        self.management_port = free_port() if management else None
        self.management_url = f"http://guest:guest@127.0.0.1:{self.management_port}" if management else None
        self.running = False

    @property
    def env(self) -> dict[str, str]:
        d = self.base_dir
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
        }

    def _prepare(self) -> None:
        d = self.base_dir
        (d / "log").mkdir(parents=True, exist_ok=True)
        (d / "mnesia").mkdir(parents=True, exist_ok=True)
        conf = f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
        if self.management:
            conf += f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {self.management_port}\n"
        (d / "enabled_plugins").write_text("[rabbitmq_management].\n" if self.management else "[].\n")
        (d / "rabbitmq.conf").write_text(conf)
        (d / "rabbitmq-env.conf").write_text("")
        _chown_to_rabbitmq(d)

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """``rabbitmqctl -n NODE ...``: always addressed to this node, never to the shared one."""
        done = subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise NodeError(
                f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}"
            )
        return done.stdout

    @property
    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        """Starts the node (again, on the same data) and returns once it accepts connections."""
        self._prepare()
        started = subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if started.returncode != 0:
            raise NodeError(f"rabbitmq-server failed: {started.stderr.strip()}")
        self.running = True
        # ``-detached`` returns before the VM registers with epmd, and ``await_startup`` gives up at
        # once on a node epmd does not know yet: wait for it to answer ``ping`` first.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                self.ctl("ping", timeout=30)
                break
            except (NodeError, subprocess.TimeoutExpired) as error:
                if time.monotonic() > deadline:
                    raise NodeError(
                        f"node {self.name} never answered: {error}; logs in {self.base_dir}"
                    ) from error
                time.sleep(0.5)
        try:
            self.ctl("await_startup", "--timeout", str(STARTUP_TIMEOUT_S), timeout=STARTUP_TIMEOUT_S + 10)
        except (NodeError, subprocess.TimeoutExpired) as error:
            raise NodeError(
                f"node {self.name} did not start: {error}; logs in {self.base_dir / 'log'}"
            ) from error

    def stop(self) -> None:
        """A clean shutdown; waits until the Erlang VM has exited."""
        pid = self.pid
        self.ctl("shutdown", "--timeout", str(STOP_TIMEOUT_S), timeout=STOP_TIMEOUT_S + 10)
        if pid is not None:
            self._wait_gone(pid)
        self.running = False

    def kill(self) -> None:
        """``kill -9`` of this node's own VM, to simulate a crash."""
        pid = self.pid
        if pid is None:
            raise NodeError(f"no pid file for {self.name}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        self._wait_gone(pid)
        self.running = False

    @staticmethod
    def _wait_gone(pid: int) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise NodeError(f"process {pid} still alive")

    def close(self) -> None:
        """Teardown: stop if running (kill if stopping fails), then delete the node's files."""
        try:
            if self.running or self.pid is not None:
                try:
                    self.stop()
                except (NodeError, subprocess.TimeoutExpired):
                    if self.pid is not None:
                        self.kill()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


@contextlib.contextmanager
def private_rabbitmq_node(*, management: bool = False) -> Iterator[RabbitNode]:
    """A started private node, always stopped and deleted on exit (even when the body failed).

    Skips (locally) or fails (``CI=true``) when the node cannot start.
    """
    if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
        require("a private RabbitMQ node (rabbitmq-server not installed)", False)
    node = RabbitNode(Path(tempfile.mkdtemp(prefix="hub-rabbit-")), management=management)
    try:
        try:
            node.start()
        except (NodeError, OSError, subprocess.TimeoutExpired) as error:
            require(f"a private RabbitMQ node ({error})", False)
        yield node
    finally:
        node.close()


def private_node_fixture(
    scope: Any = "module", *, management: bool = False
) -> Callable[[], Iterator[RabbitNode]]:
    """A pytest fixture giving one private node per ``scope``: ``node = private_node_fixture()``;
    ``management=True`` enables the management plugin (``node.management_url``)."""

    @pytest.fixture(scope=scope)
    def _node() -> Iterator[RabbitNode]:
        with private_rabbitmq_node(management=management) as node:
            yield node

    return _node


def join_cluster(node: RabbitNode, seed: RabbitNode) -> None:
    """Makes ``node`` a member of ``seed``'s cluster (TESTING.md: stop_app, join_cluster, start_app)."""
    node.ctl("stop_app")
    node.ctl("join_cluster", seed.name)
    node.ctl("start_app")
    node.ctl("await_startup", "--timeout", str(STARTUP_TIMEOUT_S), timeout=STARTUP_TIMEOUT_S + 10)


@contextlib.contextmanager
def private_rabbitmq_cluster(size: int = 3) -> Iterator[list[RabbitNode]]:
    """``size`` private nodes (own names, ports and data), clustered; all stopped and deleted on exit.

    Skips (locally) or fails (``CI=true``) when a node cannot start or join."""
    if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
        require("a private RabbitMQ cluster (rabbitmq-server not installed)", False)
    nodes = [RabbitNode(Path(tempfile.mkdtemp(prefix=f"hub-rabbit-{n}-"))) for n in range(size)]
    try:
        try:
            for node in nodes:
                node.start()
            for node in nodes[1:]:
                join_cluster(node, nodes[0])
            status = nodes[0].ctl("cluster_status", "--formatter", "json")
            missing = [node.name for node in nodes if node.name not in status]
            if missing:
                raise NodeError(f"nodes {missing} are not in the cluster: {status}")
        except (NodeError, OSError, subprocess.TimeoutExpired) as error:
            require(f"a private RabbitMQ cluster ({error})", False)
        yield nodes
    finally:
        for node in nodes:
            node.close()
