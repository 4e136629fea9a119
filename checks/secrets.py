"""Resolves a credential profile to a username and secret, from the environment or files only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checks.inventory import CredentialProfile


class CredentialError(ValueError):
    """A credential cannot be resolved; the message names the variable or file, never a secret."""


@dataclass(frozen=True)
class Credential:
    """What a transport needs to log in. repr() never shows the password."""

    username: str
    password: str = field(default="", repr=False)
    cert_pem: Path | None = None
    cert_key_pem: Path | None = None


def resolve_credential(
    name: str, profile: CredentialProfile, environ: Mapping[str, str]
) -> Credential:
    """Read the profile's username and password from the environment or its secret file."""
    username = profile.username
    if profile.username_env is not None:
        username = environ.get(profile.username_env)
        if not username:
            raise CredentialError(
                f"the environment variable {profile.username_env} (username of credential "
                f"{name!r}) is not set"
            )
    password = ""
    if profile.password_env is not None:
        if profile.password_env not in environ:
            raise CredentialError(
                f"the environment variable {profile.password_env} (password of credential "
                f"{name!r}) is not set"
            )
        password = environ[profile.password_env]
    elif profile.password_file is not None:
        try:
            # Docker secrets end with a newline that is not part of the password.
            password = profile.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise CredentialError(
                f"cannot read the password file {profile.password_file} of credential "
                f"{name!r}: {error.strerror}"
            ) from None
    if username is None:
        raise CredentialError(f"credential {name!r} has no username")
    return Credential(username, password, profile.cert_pem, profile.cert_key_pem)
