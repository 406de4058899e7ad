"""Credentials from systemd credential files or the environment, and Secrets that never show."""

from __future__ import annotations

import copy
import logging
import pickle
from typing import TYPE_CHECKING

import pytest

from daemon.config import ConfigError
from daemon.credentials import (
    PAPER_KEY_ID,
    PAPER_SECRET_KEY,
    Credentials,
    Secret,
    load_credentials,
)

if TYPE_CHECKING:
    from pathlib import Path

CANARY_KEY = "PKCANARY-KEY-7f3a"
CANARY_SECRET = "canary-secret-9b1e4d"
ENV = {"APCA_API_KEY_ID": CANARY_KEY, "APCA_API_SECRET_KEY": CANARY_SECRET}


def credentials_dir(tmp_path: Path, **files: str) -> str:
    directory = tmp_path / "credentials"
    directory.mkdir()
    for name, value in files.items():
        (directory / name).write_text(value, encoding="utf-8")
    return str(directory)


def test_alpaca_credentials_come_from_the_environment() -> None:
    """APCA_API_KEY_ID and APCA_API_SECRET_KEY from the environment."""
    credentials = load_credentials("alpaca", ENV, None)
    assert credentials.key_id.reveal() == CANARY_KEY
    assert credentials.secret_key.reveal() == CANARY_SECRET


def test_credential_files_win_over_the_environment(tmp_path: Path) -> None:
    """A file in $CREDENTIALS_DIRECTORY beats the variable; its trailing newline is dropped."""
    directory = credentials_dir(tmp_path, APCA_API_SECRET_KEY="from-file\n")
    credentials = load_credentials("alpaca", ENV, directory)
    assert credentials.secret_key.reveal() == "from-file"
    # No file for the key id: the environment still supplies it.
    assert credentials.key_id.reveal() == CANARY_KEY


def test_credential_files_alone_are_enough(tmp_path: Path) -> None:
    """With both files present, the environment is not needed."""
    directory = credentials_dir(tmp_path, APCA_API_KEY_ID="k", APCA_API_SECRET_KEY="s")
    credentials = load_credentials("alpaca", {}, directory)
    assert (credentials.key_id.reveal(), credentials.secret_key.reveal()) == ("k", "s")


@pytest.mark.parametrize(
    "environ",
    [{}, {"APCA_API_KEY_ID": "k"}, {"APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "  "}],
)
def test_missing_alpaca_credentials_name_what_is_missing(environ: dict[str, str]) -> None:
    """A missing (or blank) alpaca credential is a ConfigError naming the variable."""
    with pytest.raises(ConfigError, match=r"APCA_API_(KEY_ID|SECRET_KEY) is missing"):
        load_credentials("alpaca", environ, None)


def test_paper_has_fixed_local_credentials_when_none_are_set() -> None:
    """The paper venue works with no credentials configured at all."""
    credentials = load_credentials("paper", {}, None)
    assert credentials.key_id.reveal() == PAPER_KEY_ID
    assert credentials.secret_key.reveal() == PAPER_SECRET_KEY


def test_paper_uses_configured_credentials_when_set() -> None:
    """Credentials that are set are used for paper too (an external paper venue checks them)."""
    assert load_credentials("paper", ENV, None).key_id.reveal() == CANARY_KEY


def test_paper_with_half_the_credentials_is_an_error() -> None:
    """Only one of the pair set is a mistake, not a reason to fall back silently."""
    with pytest.raises(ConfigError, match="APCA_API_SECRET_KEY is missing"):
        load_credentials("paper", {"APCA_API_KEY_ID": "k"}, None)


def test_tradovate_credentials_and_optional_client_secrets(tmp_path: Path) -> None:
    """Tradovate's name and password are required; its cid and sec are kept when given."""
    directory = credentials_dir(tmp_path, TRADOVATE_SEC="sec-value")
    credentials = load_credentials(
        "tradovate", {"TRADOVATE_USERNAME": "u", "TRADOVATE_PASSWORD": "p"}, directory
    )
    assert (credentials.key_id.reveal(), credentials.secret_key.reveal()) == ("u", "p")
    assert {k: v.reveal() for k, v in credentials.extra.items()} == {"TRADOVATE_SEC": "sec-value"}
    with pytest.raises(ConfigError, match="TRADOVATE_PASSWORD is missing"):
        load_credentials("tradovate", {"TRADOVATE_USERNAME": "u"}, None)


def test_a_secret_never_shows_in_repr_str_or_fstrings() -> None:
    """repr, str, f-strings (with or without !r) and containers all show only the mask."""
    secret = Secret(CANARY_SECRET)
    credentials = load_credentials("alpaca", ENV, None)
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret!s}",
        "%s %r" % (secret, secret),  # noqa: UP031 - the logging style of formatting
        "{}".format(secret),  # noqa: UP032
        repr(credentials),
        str(credentials),
        repr([secret, {"k": secret}]),
    ]
    for text in shown:
        assert CANARY_SECRET not in text
        assert CANARY_KEY not in text
    assert repr(secret) == "Secret('********')"
    assert str(secret) == "Secret('********')"


def test_a_secret_never_shows_in_exception_text_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    """An exception or a log line built from a Secret carries only the mask."""
    credentials: Credentials = load_credentials("alpaca", ENV, None)
    with pytest.raises(RuntimeError) as caught:
        raise RuntimeError(f"auth failed for {credentials.key_id} with {credentials}")
    assert CANARY_KEY not in str(caught.value)
    assert CANARY_SECRET not in str(caught.value)
    with caplog.at_level(logging.INFO):
        logging.getLogger("tradingd").info("using %s / %r", credentials, credentials.secret_key)
    assert CANARY_SECRET not in caplog.text
    assert CANARY_KEY not in caplog.text
    assert "********" in caplog.text


def test_a_secret_cannot_be_pickled_or_copied_out_in_clear() -> None:
    """Pickling would write the value out; it is refused."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(CANARY_SECRET))
    with pytest.raises(TypeError, match="cannot be pickled"):
        copy.deepcopy(Secret(CANARY_SECRET))


def test_secrets_compare_by_value() -> None:
    """Two Secrets with the same value are equal; different values are not."""
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"


def test_an_unreadable_credential_file_names_the_file_not_its_content(tmp_path: Path) -> None:
    """A credential that is not text is an error naming the file, never quoting it."""
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "APCA_API_KEY_ID").write_bytes(b"\xff\xfe" + CANARY_KEY.encode())
    with pytest.raises(ConfigError, match="APCA_API_KEY_ID cannot be read") as caught:
        load_credentials("alpaca", ENV, str(directory))
    assert CANARY_KEY not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
