"""`runform serve`: the local web app for coaches and physios who never open a terminal."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app


def _is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def port_problem(host: str, port: int) -> str | None:
    """Why `port` cannot be listened on (in use, not allowed), or None: checked before the app starts,
    so a busy port is one line, not uvicorn's traceback after the URL was printed."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            s.bind((host.strip("[]"), port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another runform serve or another program)"
            return f"cannot listen on {host}:{port} ({e.strerror or e})"
    return None


def free_port_after(host: str, port: int, tries: int = 20) -> int | None:
    return next((p for p in range(port + 1, min(port + 1 + tries, 65536)) if port_problem(host, p) is None), None)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. The default serves this computer only; "
                                                     "0.0.0.0 opens it to the network (no login: trusted networks only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Where clips, results and the history database "
                                                                       "live (default: the user data folder).")] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", min=1, help="Largest clip accepted, in MB.")] = 500,
    workers: Annotated[int, typer.Option("--workers", min=1, max=16, help="Analyses run at the same time; "
                                                                         "more are queued.")] = 1,
    allowed_host: Annotated[Optional[list[str]], typer.Option(
        "--allowed-host", help="A name this app may be reached by besides this computer's own (e.g. a LAN name "
                               "such as coach-laptop.local); repeat for several. IP addresses need none.")] = None,
) -> None:
    """Start the web app: upload clips, follow progress, read reports, compare a runner's sessions."""
    try:
        import uvicorn

        from ..web.app import Settings, create_app
    except ImportError as e:
        from ..errors import InputError

        raise InputError(f"the web app's packages are missing ({e.name}); reinstall runform: pip install .") from e

    from ..errors import InputError

    problem = port_problem(host, port)
    if problem:
        free = free_port_after(host, port)
        raise InputError(f"{problem}; " + (f"port {free} is free: runform serve --port {free}" if free else
                                           "choose another with --port") + ".")

    import secrets
    import socket

    loopback = _is_loopback(host)
    names = [*(allowed_host or ())]
    if not loopback:  # this computer's own names, as LAN clients may type them
        me = socket.gethostname().lower()
        names += [me, f"{me}.local"]
        if host not in ("0.0.0.0", "::"):
            names.append(host)
    token = None if loopback else secrets.token_urlsafe(24)
    settings = Settings(data_dir=data_dir, max_upload_mb=max_upload_mb, workers=workers,
                        allowed_hosts=tuple(n.strip().lower() for n in names if n.strip()),
                        any_ip=not loopback, token=token)
    web = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"runform web app: http://{shown}:{port}/{'?token=' + token if token else ''}  "
               f"(data in {web.state.service.store.data_dir})")
    if not loopback:
        typer.echo("note: listening beyond this computer. Only people given the address above (with its token) "
                   "can use the app; anyone on the network can see the traffic (no HTTPS).", err=True)
    uvicorn.run(web, host=host, port=port, log_level="warning")
