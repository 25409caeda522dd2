"""N replicas of the app behind nginx, on this machine: `make cluster` (or
`python -m deploy.cluster --replicas 2 --port 8500`).

Starts `streamlit run app.py` N times on loopback ports, all with one cookie secret (an
upload's XSRF token then checks out on any replica), renders deploy/nginx.conf.template
for them into a private folder, and runs Debian's nginx in front on --port. It waits
until every replica answers its health check, opens each page once on each (so that no
replica meets its first students cold), prints the address, and stops everything
on Ctrl-C or SIGTERM (or when a replica or nginx exits, unless --keep-going).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")


def render(listen: str, servers: list[str], prefix: str) -> str:
    """The nginx configuration for these upstream addresses (host:port)."""
    lines = "\n".join(f"        server {s} max_fails=1 fail_timeout=5s;" for s in servers)
    return TEMPLATE.read_text().format(listen=listen, servers=lines, prefix=prefix)


def unavailable() -> str | None:
    if not (Path(NGINX).exists() or shutil.which(NGINX)):
        return f"nginx not found at {NGINX} (apt-get install nginx; .ci/run does)"
    return None


def wait_healthy(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer (exit code "
                               f"{process.poll() if process else None})")
        time.sleep(0.3)


class Cluster:
    """The replicas and nginx, as processes; ``stop`` ends them all."""

    def __init__(self, replicas: int, port: int, first_replica_port: int, log_dir: Path | None,
                 warm: bool = True):
        self.warm = warm
        self.folder = Path(tempfile.mkdtemp(prefix="lrn-cluster-"))
        self.log_dir = log_dir or self.folder
        self.url = f"http://127.0.0.1:{port}"
        self.replica_ports = [first_replica_port + i for i in range(replicas)]
        self.replicas: dict[int, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None
        self.port = port

    def start_replica(self, port: int, cookie_secret: str) -> None:
        env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret}
        log = open(self.log_dir / f"replica-{port}.log", "w")
        self.replicas[port] = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def start(self, timeout: float = 120.0) -> Cluster:
        cookie_secret = secrets.token_hex(32)  # one for all replicas, new for each cluster
        for port in self.replica_ports:
            self.start_replica(port, cookie_secret)
        for port in self.replica_ports:
            wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", timeout, self.replicas[port])
        if self.warm:  # every replica serves students: none should meet them cold
            from harness.protocol import warm
            for port in self.replica_ports:
                warm(f"http://127.0.0.1:{port}")
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / sub).mkdir(exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(render(f"127.0.0.1:{self.port}",
                               [f"127.0.0.1:{p}" for p in self.replica_ports], str(self.folder)))
        self.nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.folder),
                                       "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_healthy(f"{self.url}/nginx-health", 30, self.nginx)
        return self

    def kill_replica(self, port: int) -> None:
        """As a crash would: SIGKILL, no goodbye to its sessions."""
        self.replicas[port].kill()
        self.replicas[port].wait()

    def upstream_of_last(self, path: str) -> int | None:
        """The replica port that served the last request for ``path`` (nginx's access log)."""
        log = self.folder / "access.log"
        for line in reversed(log.read_text().splitlines() if log.exists() else []):
            if f" {path}" in line and "upstream=127.0.0.1:" in line:
                return int(line.split("upstream=127.0.0.1:")[1].split()[0].rstrip(","))
        return None

    def stop(self) -> None:
        for process in [self.nginx, *self.replicas.values()]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [self.nginx, *self.replicas.values()]:
            if process is not None:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def cluster(replicas: int = 2, port: int | None = None, log_dir: Path | None = None):
    """A started cluster on free loopback ports (for tests and benchmarks); stopped after."""
    from harness.browser import free_port
    ports = [free_port() for _ in range(replicas + 1)]
    c = Cluster(replicas, port or ports[0], 0, log_dir)
    c.replica_ports = ports[1:]
    try:
        yield c.start()
    finally:
        c.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8500, help="where nginx listens")
    parser.add_argument("--first-replica-port", type=int, default=8511)
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= 16:
        parser.error("--replicas: 1..16")
    if unavailable():
        parser.error(unavailable())
    c = Cluster(args.replicas, args.port, args.first_replica_port, None)

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        c.start()
        print(f"{args.replicas} replicas on ports {c.replica_ports} behind nginx: {c.url} "
              f"(logs in {c.folder}); Ctrl-C stops them all", flush=True)
        while all(p.poll() is None for p in [c.nginx, *c.replicas.values()]):
            time.sleep(1)
        print("a replica or nginx exited; stopping the others", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
