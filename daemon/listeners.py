"""Listening sockets for the signal sources: a unix socket, optional TCP, or systemd's.

With socket activation (``tradingd.socket``) systemd hands the sockets over as file
descriptors 3.. and names them in ``LISTEN_FDS``/``LISTEN_PID``; otherwise the daemon binds
its unix socket itself (mode 0660: the owner and its group may send signals and steer it)
and, when configured, TCP on loopback.
"""

from __future__ import annotations

import errno
import os
import socket as stdlib_socket
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import trio

from brokers.errors import TradingError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from daemon.config import SourcesConfig

SOCKET_NAME = "tradingd.sock"
# Where the system unit's RuntimeDirectory=tradingd puts it.
SYSTEM_SOCKET = "/run/tradingd/" + SOCKET_NAME
# The first descriptor systemd passes (sd_listen_fds(3)).
LISTEN_FDS_START = 3


class ListenerError(TradingError):
    """A listening socket cannot be opened; the message says which and why."""


class SocketInUse(ListenerError):
    """Something already listens there: EADDRINUSE, or a live tradingd on the unix socket."""


def cannot_listen(where: str, exc: OSError) -> ListenerError:
    """The error for a failed bind of ``where``: ``SocketInUse`` when the address is taken."""
    kind = SocketInUse if exc.errno == errno.EADDRINUSE else ListenerError
    return kind(f"cannot listen on {where}: {exc.strerror or exc}")


@attrs.frozen
class Listener:
    """A listening socket and whether it is a local one (only those carry the control API)."""

    listener: trio.SocketListener
    local: bool
    name: str


def default_socket_path(environ: Mapping[str, str]) -> str:
    """The unix socket's path: systemd's RuntimeDirectory, the user's runtime dir, or /tmp."""
    if runtime := environ.get("RUNTIME_DIRECTORY"):
        # RuntimeDirectory= may list several directories, separated by colons.
        return str(Path(runtime.split(":")[0]) / SOCKET_NAME)
    if runtime := environ.get("XDG_RUNTIME_DIR"):
        return str(Path(runtime) / "tradingd" / SOCKET_NAME)
    return str(Path(tempfile.gettempdir()) / f"tradingd-{os.getuid()}" / SOCKET_NAME)


def activated_fds(environ: Mapping[str, str], pid: int) -> list[int]:
    """The descriptors systemd passed to this very process (none when not socket-activated)."""
    if environ.get("LISTEN_PID") != str(pid):
        return []  # meant for another process (e.g. a parent that did not unset them)
    try:
        count = int(environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return []
    return list(range(LISTEN_FDS_START, LISTEN_FDS_START + max(count, 0)))


def adopt_fds(fds: list[int]) -> list[Listener]:
    """Wrap systemd's listening sockets; the daemon owns (and closes) them from here on."""
    adopted = []
    for fd in fds:
        sock = stdlib_socket.socket(fileno=fd)
        sock.setblocking(False)
        local = sock.family == stdlib_socket.AF_UNIX
        address = sock.getsockname()
        name = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
        adopted.append(
            Listener(trio.SocketListener(trio.socket.from_stdlib_socket(sock)), local, name)
        )
    return adopted


async def open_unix_listener(path: str, mode: int = 0o660) -> Listener:
    """Bind ``path`` (replacing a stale socket file left by a crash, never a live one)."""
    target = trio.Path(path)
    try:
        await target.parent.mkdir(parents=True, exist_ok=True, mode=0o770)
        await _remove_stale_socket(target)
    except OSError as exc:  # a directory we may not create, a path we may not look at
        raise cannot_listen(path, exc) from exc
    sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
    try:
        await sock.bind(path)
        # chmod after bind: the umask decides the mode bind gives, and may be too strict or loose.
        await target.chmod(mode)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise cannot_listen(path, exc) from exc
    return Listener(trio.SocketListener(sock), local=True, name=path)


async def _remove_stale_socket(target: trio.Path) -> None:
    try:
        if not stat.S_ISSOCK((await target.lstat()).st_mode):
            raise ListenerError(f"{target} exists and is not a socket")
    except FileNotFoundError:
        return
    try:
        stream = await trio.open_unix_socket(str(target))
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
            raise ListenerError(f"cannot probe {target}: {exc.strerror or exc}") from exc
        await target.unlink(missing_ok=True)
        return
    await stream.aclose()
    raise SocketInUse(f"{target}: another tradingd is listening there")


async def open_tcp_listener(address: str) -> list[Listener]:
    """``host:port`` (``[::1]:port`` for IPv6); never a wildcard unless written out."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ListenerError(f"TCP address {address!r}: expected host:port")
    host = host.strip("[]") or "127.0.0.1"
    try:
        listeners = await trio.open_tcp_listeners(int(port), host=host)
    except OSError as exc:
        raise cannot_listen(address, exc) from exc
    return [Listener(lst, local=False, name=address) for lst in listeners]


async def open_configured_listeners(
    sources: SourcesConfig, socket_path: str | None, environ: Mapping[str, str]
) -> list[Listener]:
    """systemd's sockets when socket-activated, else the configured unix socket and TCP."""
    fds = activated_fds(environ, os.getpid())
    if fds:
        return adopt_fds(fds)
    opened: list[Listener] = []
    try:
        if sources.socket:
            opened.append(await open_unix_listener(socket_path or default_socket_path(environ)))
        if sources.tcp is not None:
            opened.extend(await open_tcp_listener(sources.tcp))
    except BaseException:
        for listener in opened:
            await listener.listener.aclose()
        raise
    return opened


def client_socket_path(environ: Mapping[str, str]) -> str:
    """Where the CLI looks for the daemon: $TRADINGD_SOCKET, the user's own, the system's."""
    if explicit := environ.get("TRADINGD_SOCKET"):
        return explicit
    own = default_socket_path(environ)
    if not Path(own).exists() and Path(SYSTEM_SOCKET).exists():
        return SYSTEM_SOCKET
    return own
