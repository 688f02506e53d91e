"""Bring up the production-shaped cloud on this machine, without Docker.

nginx (TLS, HTTP and WebSocket, size limits: the same ``deploy/cloud/nginx.conf`` as production)
in front of N daphne workers running ``cloud.settings.prod`` on PostgreSQL with Redis as channel
layer and cache. PostgreSQL and Redis are the machine's running services; nginx comes from the
machine's packages (installed with apt-get when missing and running as root).

    .venv/bin/python deploy/prodlike.py [--workers 2] [--https-port 8443] [--fresh]

Tests use :class:`ProdLikeCloud` as a context manager.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DEFAULT_SECRET = "prodlike-not-secret-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"


def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("nginx is not installed and this is not root with apt-get: install nginx first")
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "nginx-light"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


def psql(sql: str, host: str = "127.0.0.1") -> None:
    subprocess.run(
        ["psql", "-h", host, "-U", "postgres", "-d", "postgres", "-qc", sql], check=True, capture_output=True
    )


def nginx_config(
    workdir: Path, *, ports: list[int], http_port: int, https_port: int, plain_port: int | None = None
) -> str:
    """The production nginx.conf with this machine's ports and paths substituted."""
    server_blocks = (ROOT / "deploy/cloud/nginx.conf").read_text()
    upstream = (
        "upstream omnitill_cloud {\n    zone omnitill_cloud 64k;\n    least_conn;\n"
        + "".join(f"    server 127.0.0.1:{p} max_fails=0;\n" for p in ports)
        + "    keepalive 64;\n}\n"
    )
    replacements = {
        "include /etc/nginx/omnitill-upstream.conf;": upstream,
        "include /etc/nginx/omnitill-proxy.conf;": f"include {ROOT / 'deploy/cloud/omnitill-proxy.conf'};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "return 301 https://$host$request_uri;": f"return 301 https://$host:{https_port}$request_uri;",
        "/etc/ssl/omnitill/fullchain.pem": str(workdir / "cert.pem"),
        "/etc/ssl/omnitill/privkey.pem": str(workdir / "key.pem"),
        "/opt/omnitill/var/static/cloud/": f"{ROOT / 'var/static/cloud'}/",
        "server_name cloud.omnitill.example;": "server_name localhost 127.0.0.1;",
    }
    for old, new in replacements.items():
        if old not in server_blocks:
            raise RuntimeError(
                f"deploy/cloud/nginx.conf no longer contains {old!r}; update deploy/prodlike.py"
            )
        server_blocks = server_blocks.replace(old, new)
    if plain_port:
        # Loopback tests only: plain HTTP into the same upstream, for a fault-injecting proxy that
        # must read requests (it cannot see inside TLS). Production has no such listener.
        server_blocks += f"""
server {{
    listen 127.0.0.1:{plain_port};
    server_name localhost 127.0.0.1;
    client_max_body_size 8m;
    location /ws/ {{
        proxy_pass http://omnitill_cloud;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_read_timeout 1h;
    }}
    location / {{
        proxy_pass http://omnitill_cloud;
        include {ROOT / "deploy/cloud/omnitill-proxy.conf"};
    }}
}}
"""
    temp = workdir / "tmp"
    return f"""daemon off;
worker_processes 2;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
user root;
events {{ worker_connections 8192; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{server_blocks}
}}
"""


@dataclass
class ProdLikeCloud:
    workers: int = 2
    first_port: int = 8101
    http_port: int = 8080
    https_port: int = 8443
    database: str = "omnitill_prodlike"
    fresh: bool = False
    redis_url: str = "redis://127.0.0.1:6379/1"
    workdir: Path = ROOT / "var" / "prodlike"
    plain_port: int | None = None  # loopback tests only (a fault proxy in front): see nginx_config
    db_pool_max: int = 20  # per worker: a bounded psycopg pool, never one connection per socket
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "POS_ROLE")}
        env.update(
            POS_ROLE="cloud",
            DJANGO_SETTINGS_MODULE="cloud.settings.prod",
            SECRET_KEY=os.environ.get("SECRET_KEY", DEFAULT_SECRET),
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{self.database}",
            REDIS_URL=self.redis_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CSRF_TRUSTED_ORIGINS=self.url,
            PYTHONUNBUFFERED="1",
            CONN_MAX_AGE="0",
            DB_POOL_MAX=str(self.db_pool_max),
        )
        env.update(self.extra_env)
        return env

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.workdir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        if not (self.workdir / "cert.pem").exists():
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "30",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout",
                    str(self.workdir / "key.pem"),
                    "-out",
                    str(self.workdir / "cert.pem"),
                ],
                check=True,
                capture_output=True,
            )
        if self.fresh:
            psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        try:
            psql(f'CREATE DATABASE "{self.database}"')
        except subprocess.CalledProcessError:
            pass  # it exists: migrate brings it up to date
        for command in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
            subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=self.env, check=True)
        ports = [self.first_port + i for i in range(self.workers)]
        (self.workdir / "nginx.conf").write_text(
            nginx_config(
                self.workdir,
                ports=ports,
                http_port=self.http_port,
                https_port=self.https_port,
                plain_port=self.plain_port,
            )
        )

    def start_worker(self, port: int) -> subprocess.Popen:
        """Start (or restart, after a crash) the daphne worker on ``port``."""
        with open(self.workdir / "workers.log", "ab") as log:
            process = subprocess.Popen(
                [PY, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port), "--proxy-headers", "cloud.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.processes[f"daphne:{port}"] = process
        return process

    def worker_pids(self) -> list[int]:
        return [p.pid for name, p in self.processes.items() if name.startswith("daphne:")]

    def start(self) -> None:
        self.prepare()
        log = open(self.workdir / "workers.log", "ab")
        for i in range(self.workers):
            self.start_worker(self.first_port + i)
        # Each worker answers on its own port before nginx starts: a worker still importing Django
        # must not be marked failed by nginx (max_fails) and leave the upstream empty for fail_timeout.
        for i in range(self.workers):
            if not self.wait_worker(self.first_port + i):
                self.stop()
                raise RuntimeError(
                    f"daphne on {self.first_port + i} did not come up; see {self.workdir / 'workers.log'}"
                )
        nginx = ensure_nginx()
        self.processes["nginx"] = subprocess.Popen(
            [nginx, "-c", str(self.workdir / "nginx.conf"), "-p", str(self.workdir)],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if not self.wait_ready():
            self.stop()
            raise RuntimeError(
                f"the production-shaped cloud did not come up; see {self.workdir / 'workers.log'}"
            )

    def wait_worker(self, port: int, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(
                        f"http://127.0.0.1:{port}/api/health", headers={"X-Forwarded-Proto": "https"}
                    ),
                    timeout=2,
                ) as r:
                    if r.status == 200:
                        return True
            except OSError:
                if any(p.poll() is not None for p in self.processes.values()):
                    return False
                time.sleep(0.3)
        return False

    def wait_ready(self, timeout: float = 60) -> bool:
        context = ssl.create_default_context(cafile=str(self.workdir / "cert.pem"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # Through nginx, once per worker, so every worker answers before we call it ready.
                for _ in range(self.workers):
                    with urllib.request.urlopen(f"{self.url}/api/health", timeout=2, context=context) as r:
                        if r.status != 200:
                            raise OSError(r.status)
                return True
            except OSError:
                if any(p.poll() is not None for p in self.processes.values()):
                    return False
                time.sleep(0.3)
        return False

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def __enter__(self) -> ProdLikeCloud:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--database", default="omnitill_prodlike")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    args = parser.parse_args()
    cloud = ProdLikeCloud(
        workers=args.workers,
        https_port=args.https_port,
        http_port=args.http_port,
        database=args.database,
        fresh=args.fresh,
    )
    cloud.start()
    print(
        f"production-shaped cloud up: {cloud.url}/admin/  ({args.workers} daphne workers behind nginx, PostgreSQL {args.database}, Redis)"
    )
    print(f"TLS certificate (self-signed): {cloud.workdir / 'cert.pem'}; Ctrl-C stops it")
    try:
        while all(p.poll() is None for p in cloud.processes.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
