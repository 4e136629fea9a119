"""Credentials come from the environment or secret files, and never show up in messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checks.inventory import CredentialProfile
from checks.secrets import CredentialError, masked_snapshot, resolve_credential
from checks.snapshot import Snapshot


def test_username_and_password_from_the_environment() -> None:
    profile = CredentialProfile(username_env="WINRM_USER", password_env="WINRM_PASSWORD")
    credential = resolve_credential("r", profile, {"WINRM_USER": "svc", "WINRM_PASSWORD": "pa55"})
    assert (credential.username, credential.password) == ("svc", "pa55")
    assert "pa55" not in repr(credential)


def test_a_docker_secret_file_loses_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "winrm_password"
    secret.write_text("pa55 word\n", encoding="utf-8")
    profile = CredentialProfile(username="CORP\\svc", password_file=secret)
    assert resolve_credential("r", profile, {}).password == "pa55 word"


def test_a_missing_variable_is_named(tmp_path: Path) -> None:
    profile = CredentialProfile(username="svc", password_env="WINRM_PASSWORD")
    with pytest.raises(CredentialError) as caught:
        resolve_credential("backup-reader", profile, {})
    assert str(caught.value) == (
        "the environment variable WINRM_PASSWORD (password of credential 'backup-reader') "
        "is not set"
    )


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    profile = CredentialProfile(username="svc", password_file=tmp_path / "missing")
    with pytest.raises(CredentialError, match=r"cannot read the password file .*missing"):
        resolve_credential("r", profile, {})


def test_a_secret_is_masked_in_every_string_of_a_snapshot(
    load_snapshot: Callable[[str], Snapshot],
) -> None:
    seed = load_snapshot("seed-incident")
    volumes = [v.model_copy(update={"label": f"pa55 {v.label} pa55"}) for v in seed.volumes]
    echoing = seed.model_copy(update={"volumes": volumes, "warnings": ["as svc/pa55: denied"]})
    masked = masked_snapshot(echoing, "pa55")
    assert "pa55" not in masked.to_json()
    assert [v.label for v in masked.volumes] == ["***  ***", "*** Data ***", "*** Backup ***"]
    assert masked.warnings == ["as svc/***: denied"]
    assert masked_snapshot(seed, "pa55") is seed  # nothing to mask: the same object
    assert masked_snapshot(echoing, "") is echoing
