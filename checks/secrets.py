"""Resolves a credential profile to a username and secret, from the environment or files only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checks.collect.errors import CollectError
from checks.inventory import CredentialProfile
from checks.snapshot import Snapshot, parse_snapshot

MASK = "***"


class CredentialError(CollectError):
    """A credential cannot be resolved; the message names the variable or file, never a secret."""

    def __init__(self, key: str, **params: object) -> None:
        # Nothing changes until someone fixes the configuration: never worth retrying.
        super().__init__(key, permanent=True, **params)


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
            raise CredentialError("username_env_missing", variable=profile.username_env, name=name)
    password = ""
    if profile.password_env is not None:
        if profile.password_env not in environ:
            raise CredentialError("password_env_missing", variable=profile.password_env, name=name)
        password = environ[profile.password_env]
    elif profile.password_file is not None:
        try:
            # Docker secrets end with a newline that is not part of the password.
            password = profile.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise CredentialError(
                "password_file_unreadable",
                path=str(profile.password_file),
                name=name,
                reason=error.strerror or type(error).__name__,
            ) from None
    if username is None:
        raise CredentialError("no_username", name=name)
    return Credential(username, password, profile.cert_pem, profile.cert_key_pem)


def masked_snapshot(snapshot: Snapshot, secret: str) -> Snapshot:
    """The snapshot with the secret masked in every string a host wrote (labels, names,
    warnings, paths...), in one pass; raises InvalidSnapshot if masking leaves it invalid."""
    if not secret:
        return snapshot
    document = snapshot.model_dump(mode="json", by_alias=True)
    found = False

    def mask(value: object) -> object:
        nonlocal found
        if isinstance(value, str):
            if secret in value:
                found = True
                return value.replace(secret, MASK)
            return value
        if isinstance(value, list):
            return [mask(item) for item in value]
        if isinstance(value, dict):
            return {key: mask(item) for key, item in value.items()}
        return value

    cleaned = mask(document)
    # Validated again, so a masked value still has to be a value Windows can produce.
    return parse_snapshot(json.dumps(cleaned)) if found else snapshot
