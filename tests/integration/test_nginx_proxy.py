"""deploy/nginx.conf in front of the real gunicorn: Debian's nginx runs the shipped
file (only its two addresses changed), and slow clients meet nginx, not gunicorn.

Skipped where nginx is not installed (`apt-get install nginx`), except in CI.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from store_monitoring.devstack import ROOT, Api, Service, free_port
from tests.integration.conftest import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SHIPPED = ROOT / "deploy" / "nginx.conf"
SITE = "monitoring.example.com"
PROBE_HOST = "10.20.30.40"  # a probe calling the server by an IP address (not an allowed host)
SLOW_CLIENTS = 12  # gunicorn_conf: 2 workers x 4 threads, all of them held and then some


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
    )
    if found is None:
        unavailable("nginx is not installed (apt-get install nginx)")
    assert found is not None
    return found


def nginx_config(directory: Path, *, port: int, upstream_port: int) -> Path:
    """A main nginx.conf that includes the shipped file, its addresses replaced."""
    site = SHIPPED.read_text()
    replaced = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    replaced = replaced.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    assert replaced.count(f":{port} ") == 1
    assert replaced.count(f":{upstream_port};") == 1
    (directory / "store-monitoring.conf").write_text(replaced)
    temp = {name: directory / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    main = directory / "nginx.conf"
    main.write_text(
        # As root (CI), the workers would switch to nobody, who cannot enter pytest's directories.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"""daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {directory}/store-monitoring.conf;
}}
"""
    )
    return main


def listening(port: int) -> Callable[[Service], bool]:
    def ready(_: Service) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return False
        return True

    return ready


def get(port: int, path: str, *, host: str, timeout: float) -> tuple[int, bytes, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host})
        answer = connection.getresponse()
        return answer.status, answer.read(), time.monotonic() - started
    finally:
        connection.close()


@contextmanager
def slow_bodies(port: int, clients: int) -> Iterator[list[socket.socket]]:
    """`clients` connections each sending a POST's headers, then its body a byte
    every half second, for as long as the block lasts."""
    stop = threading.Event()
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(clients)]
    head = (
        f"POST /api/monitor/polls HTTP/1.1\r\nHost: {SITE}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
    ).encode()

    def trickle(connection: socket.socket) -> None:
        connection.sendall(head)
        while not stop.wait(0.5):
            try:
                connection.sendall(b" ")
            except OSError:
                return

    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in sockets]
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # every connection has sent its headers and some of its body
    try:
        yield sockets
    finally:
        stop.set()
        for connection in sockets:
            connection.close()
        for thread in threads:
            thread.join()


@pytest.fixture
def proxied(
    launch: Callable[..., Service], start_api: Callable[..., Api], tmp_path: Path
) -> tuple[int, int]:
    """(nginx's port, gunicorn's port): gunicorn set up as docs/security.md says."""
    binary = nginx_binary()
    # 127.0.0.1 too: start_api's own readiness probe goes straight to gunicorn.
    hosts = f"{SITE},127.0.0.1"
    api = start_api(
        API_KEYS_REQUIRED="true",  # as in production: the slow POSTs carry no key
        API_NUM_PROXIES="1",
        DJANGO_ALLOWED_HOSTS=hosts,
        API_THROTTLE_READ="off",
    )
    upstream_port = int(api.base_url.rsplit(":", 1)[1])
    port = free_port()
    directory = tmp_path / "nginx"
    directory.mkdir()
    config = nginx_config(directory, port=port, upstream_port=upstream_port)
    launch("nginx", [binary, "-p", str(directory), "-c", str(config)], listening(port))
    return port, upstream_port


def test_healthz_answers_within_a_second_through_nginx_under_slow_bodies(
    proxied: tuple[int, int],
) -> None:
    port, _ = proxied

    with slow_bodies(port, SLOW_CLIENTS):
        # A probe by IP address: nginx sends gunicorn the site's name.
        probes = [get(port, "/healthz", host=PROBE_HOST, timeout=5) for _ in range(10)]

    assert [(status, json.loads(body)) for status, body, _ in probes] == [
        (200, {"status": "ok"})
    ] * 10
    assert max(seconds for _, _, seconds in probes) < 1.0


def test_nginx_refuses_a_body_over_the_limit_as_json(proxied: tuple[int, int]) -> None:
    port, _ = proxied
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.putrequest("POST", "/api/monitor/polls", skip_host=True)
    connection.putheader("Host", SITE)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(40 * 1024 * 1024))
    connection.endheaders()
    answer = connection.getresponse()

    assert answer.status == 413
    assert "too large" in json.loads(answer.read())["error"]


def test_probes_by_ip_address_reach_the_app_and_other_paths_keep_their_host(
    proxied: tuple[int, int],
) -> None:
    port, _ = proxied

    probe, _, _ = get(port, "/readyz", host=PROBE_HOST, timeout=5)
    by_name, _, _ = get(port, "/api/monitor/reports", host=SITE, timeout=5)
    by_ip, body, _ = get(port, "/api/monitor/reports", host=PROBE_HOST, timeout=5)

    assert probe == 200
    assert by_name == 401  # reached the app (which wants a key)
    assert by_ip == 400  # DJANGO_ALLOWED_HOSTS still guards everything else
    assert json.loads(body)["error"]
