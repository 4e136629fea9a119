"""A real WS-Management (WinRM) endpoint on loopback, scripted by tests.

Unmodified pywinrm talks to it over a real socket: Basic or NTLM (with MS-WSMV message
encryption over HTTP), optional HTTPS, and the WinRS actions Create, Command, Send, Receive,
Signal and Delete. What a command prints is decided by the test's ``handler``.

The SOAP answers live in ``wsman_soap``, the HTTP layer in ``wsman_http`` and authentication in
``wsman_auth``; ``fleet`` serves many such endpoints from one process.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Collection, Mapping
from pathlib import Path

from .wsman_auth import AuthConfig, make_tls
from .wsman_http import HttpRecord, SecureHTTPServer
from .wsman_soap import (
    CommandRequest,
    CommandResult,
    Handler,
    RequestRecord,
    WSManEndpoint,
    WSManFault,
    encode_output,
)

__all__ = [
    "CommandRequest",
    "CommandResult",
    "HttpRecord",
    "RequestRecord",
    "WSManFault",
    "WSManServer",
    "encode_output",
]

DEFAULT_USERS = {"administrator": "Vagrant1!"}


class WSManServer(WSManEndpoint):
    """Loopback WinRM endpoint; use as a context manager or call start()/stop().

    HTTP-level logging and failure injection (``http_requests``, ``fail_next_http``, ``hang``)
    come from :class:`~.wsman_http.HttpControls`.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        users: Mapping[str, str] | None = None,
        auth: Collection[str] = ("basic", "ntlm"),
        tls: bool = False,
        default_codepage: int = 437,
        receive_chunk_size: int = 32 * 1024,
    ) -> None:
        super().__init__(
            handler, default_codepage=default_codepage, receive_chunk_size=receive_chunk_size
        )
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.auth_schemes = tuple(auth)
        self.tls = tls
        self.ca_cert_path: Path | None = None
        self.port = 0
        self._httpd: SecureHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/wsman"

    def start(self) -> WSManServer:
        self._tmp = tempfile.TemporaryDirectory(prefix="wsman-")
        workdir = Path(self._tmp.name)
        ssl_context, bindings = None, None
        if self.tls:
            ssl_context, self.ca_cert_path, bindings = make_tls(workdir)
        auth = AuthConfig(self.users, self.auth_schemes, workdir, bindings)
        self._httpd = SecureHTTPServer(self, auth, ssl_context)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"wsman-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and join every server thread."""
        if self._httpd is None or self._thread is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()  # joins the per-connection threads
        self._thread.join()
        self._httpd = self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> WSManServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
