"""HTTP transport security for the fake WS-Management endpoints (``wsman_server``, ``fleet``).

The server half of what pywinrm does on the client: Basic auth, connection-based NTLM (offered
as ``Negotiate``, as Windows does) through pyspnego's acceptor, MS-WSMV 2.2.9.1.1
``multipart/encrypted`` message sealing, and HTTPS with a trustme certificate. The HTTP server
and request handler that use them are in ``wsman_http``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import ssl
import struct
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import spnego
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

SCHEMES = frozenset({"basic", "ntlm"})
ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = (
    f'multipart/encrypted;protocol="{ENCRYPTED_PROTOCOL}";boundary="Encrypted Boundary"'
)
_BOUNDARY = b"--Encrypted Boundary"
_OCTET_HEADER = b"\tContent-Type: application/octet-stream\r\n"
_NTLM_SIGNATURE = b"NTLMSSP\x00"
_NTLM_NEGOTIATE = 1
_AV_CHANNEL_BINDINGS = 0x000A

# pyspnego's NTLM acceptor reads its user database only from os.environ["NTLM_USER_FILE"]
# (there is no parameter for it), both when the context is built and when the AUTHENTICATE
# message is checked. The variable is therefore set only around those calls, under one lock, so
# several servers with different users can run in one process and the rest of the process never
# sees a changed environment for longer than an acceptor step.
_NTLM_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _ntlm_user_file(path: Path) -> Iterator[None]:
    with _NTLM_ENV_LOCK:
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(path)
        try:
            yield
        finally:
            if previous is None:
                del os.environ["NTLM_USER_FILE"]
            else:
                os.environ["NTLM_USER_FILE"] = previous


def write_ntlm_user_file(users: Mapping[str, str], path: Path) -> None:
    """Write ``users`` (``user`` or ``DOMAIN\\user`` -> password) in pyspnego's format."""
    lines = []
    for name, password in users.items():
        domain, _, user = name.rpartition("\\")
        if ":" in name or ":" in password or "\n" in password:
            raise ValueError(f"NTLM user file cannot hold ':' or newlines (user {name!r})")
        lines.append(f"{domain}:{user}:{password}\n")
    path.write_text("".join(lines), encoding="utf-8")


def tls_server_end_point(cert_pem: bytes) -> GssChannelBindings:
    """Channel bindings (RFC 5929) that requests_ntlm derives from this certificate."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


def make_tls(
    directory: Path, identities: Sequence[str] = ("127.0.0.1", "localhost")
) -> tuple[ssl.SSLContext, Path, GssChannelBindings]:
    """Issue a certificate for ``identities`` (IP addresses or names) from a fresh trustme CA.

    Returns the server SSL context, the CA PEM path for clients, and the CBT for NTLM.
    """
    ca = trustme.CA()
    leaf = ca.issue_cert(*identities)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    ca_path = directory / "wsman-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return context, ca_path, tls_server_end_point(leaf.cert_chain_pems[0].bytes())


class AuthConfig:
    """Server-wide authentication settings shared by every connection."""

    def __init__(
        self,
        users: Mapping[str, str],
        schemes: Collection[str],
        workdir: Path,
        channel_bindings: GssChannelBindings | None = None,
        *,
        user_file_name: str = "ntlm-users.txt",
    ) -> None:
        unknown = set(schemes) - SCHEMES
        if unknown:
            raise ValueError(f"unsupported auth schemes: {sorted(unknown)}")
        self.users = dict(users)
        self.schemes = frozenset(schemes)
        self.channel_bindings = channel_bindings
        self.user_file = workdir / user_file_name
        write_ntlm_user_file(self.users, self.user_file)

    def challenges(self) -> list[str]:
        """``WWW-Authenticate`` values for a 401, in the order Windows sends them."""
        offers = ["Negotiate"] if "ntlm" in self.schemes else []
        return offers + (['Basic realm="WSMAN"'] if "basic" in self.schemes else [])

    def check_basic(self, username: str, password: str) -> str | None:
        for name, expected in self.users.items():
            # Windows account names are case-insensitive, passwords are not.
            if name.casefold() == username.casefold() and password == expected:
                return name
        return None


class ConnectionAuth:
    """Authentication state of one TCP connection (NTLM authenticates connections)."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._pending: spnego.ContextProxy | None = None
        self.context: spnego.ContextProxy | None = None
        self.ntlm_user: str | None = None

    def authenticate(self, authorization: str | None) -> tuple[str | None, list[str]]:
        """Return ``(user, [])`` if authorised, else ``(None, WWW-Authenticate values)``."""
        if not authorization:
            if self.ntlm_user is not None:
                return self.ntlm_user, []
            return None, self.config.challenges()
        scheme, _, token = authorization.strip().partition(" ")
        scheme_key = scheme.lower()
        if scheme_key == "basic" and "basic" in self.config.schemes:
            return self._basic(token.strip()), self.config.challenges()
        if scheme_key in ("negotiate", "ntlm") and "ntlm" in self.config.schemes:
            return self._ntlm(scheme, token.strip())
        return None, self.config.challenges()

    def _basic(self, token: str) -> str | None:
        try:
            username, _, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.config.check_basic(username, password)

    def _ntlm(self, scheme: str, token: str) -> tuple[str | None, list[str]]:
        try:
            raw = base64.b64decode(token)
        except binascii.Error:
            return None, self.config.challenges()
        is_negotiate = raw.startswith(_NTLM_SIGNATURE) and raw[8:12] == struct.pack(
            "<I", _NTLM_NEGOTIATE
        )
        try:
            with _ntlm_user_file(self.config.user_file):
                if is_negotiate:
                    self.context, self.ntlm_user = None, None
                    self._pending = spnego.server(
                        hostname="127.0.0.1", service="HTTP", protocol="ntlm"
                    )
                    challenge = self._pending.step(raw) or b""
                    return None, [f"{scheme} {base64.b64encode(challenge).decode()}"]
                if self._pending is None:
                    return None, self.config.challenges()
                # Like Windows' default CbtHardeningLevel=Relaxed: check bindings only if sent.
                bindings = self.config.channel_bindings if _has_bindings(raw) else None
                self._pending.step(raw, channel_bindings=bindings)
        except SpnegoError:
            self._pending = None
            return None, self.config.challenges()
        self.context, self._pending = self._pending, None
        self.ntlm_user = self.context.client_principal or ""
        return self.ntlm_user, []


def _has_bindings(authenticate: bytes) -> bool:
    """Whether an NTLMv2 AUTHENTICATE message carries non-zero MsvAvChannelBindings."""
    try:
        length, _, offset = struct.unpack_from("<HHI", authenticate, 20)  # NtChallengeResponse
        response = authenticate[offset : offset + length]
        position = 16 + 28  # AV pairs follow NTProofStr and the fixed client-challenge fields
        while position + 4 <= len(response):
            av_id, av_length = struct.unpack_from("<HH", response, position)
            value = response[position + 4 : position + 4 + av_length]
            if av_id in (0, _AV_CHANNEL_BINDINGS):
                return av_id == _AV_CHANNEL_BINDINGS and any(value)
            position += 4 + av_length
    except struct.error:
        pass
    return False


def is_encrypted(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` announces an MS-WSMV encrypted message."""
    normalised = (content_type or "").lower().replace(" ", "")
    return f'protocol="{ENCRYPTED_PROTOCOL.lower()}"' in normalised


def decrypt(context: spnego.ContextProxy, body: bytes) -> bytes:
    """Unseal one ``multipart/encrypted`` message body; raises ValueError if malformed."""
    try:
        length_at = body.index(b"Length=") + len(b"Length=")
        length = int(body[length_at : body.index(b"\r\n", length_at)])
        start = body.index(_OCTET_HEADER, length_at) + len(_OCTET_HEADER)
        (sig_len,) = struct.unpack("<I", body[start : start + 4])
        signature = body[start + 4 : start + 4 + sig_len]
        # NTLM sealing is RC4, so the ciphertext is exactly as long as the plaintext.
        sealed = body[start + 4 + sig_len : start + 4 + sig_len + length]
        plain = context.unwrap(signature + sealed).data
    except (ValueError, struct.error, SpnegoError) as exc:
        raise ValueError(f"cannot decrypt WS-Management message: {exc}") from exc
    if len(plain) != length:
        raise ValueError("decrypted length does not match OriginalContent Length")
    return plain


def encrypt(context: spnego.ContextProxy, payload: bytes) -> bytes:
    """Seal ``payload`` the way Windows answers an encrypted request."""
    wrapped = context.wrap(payload, encrypt=True).data
    signature, sealed = wrapped[:16], wrapped[16:]
    return b"".join(
        [
            _BOUNDARY + b"\r\n",
            f"\tContent-Type: {ENCRYPTED_PROTOCOL}\r\n".encode(),
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n"
            % len(payload),
            _BOUNDARY + b"\r\n",
            _OCTET_HEADER,
            struct.pack("<I", len(signature)) + signature + sealed,
            _BOUNDARY + b"--\r\n",
        ]
    )
