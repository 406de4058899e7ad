"""Venue credentials, from systemd credentials or the environment; never from argv.

A name is looked up first as a file in ``$CREDENTIALS_DIRECTORY`` (systemd
``LoadCredential=``/``SetCredentialEncrypted=``), then in the environment: the file wins,
because it is the one an operator set up on purpose for the unit. Values are wrapped in
``Secret`` at once, so a log line, a repr or an exception message can only ever show
``Secret('********')``.

    alpaca      APCA_API_KEY_ID, APCA_API_SECRET_KEY (both required)
    tradovate   TRADOVATE_USERNAME, TRADOVATE_PASSWORD (required);
                TRADOVATE_CID, TRADOVATE_SEC (optional, kept in ``extra``)
    paper       the alpaca names when both are set, else fixed local paper credentials
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import attrs

from daemon.config import BrokerKind, ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

PAPER_KEY_ID = "tradingd-paper-key"
PAPER_SECRET_KEY = "tradingd-paper-secret"

_ALPACA = ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY")
_TRADOVATE = ("TRADOVATE_USERNAME", "TRADOVATE_PASSWORD")
_TRADOVATE_EXTRA = ("TRADOVATE_CID", "TRADOVATE_SEC")


class Secret:
    """A value that never shows itself: ``repr``/``str``/f-strings give ``Secret('********')``.

    ``reveal()`` is the one way to the value, so every use of it is easy to find.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        # Equal secrets hash alike without the hash being a cheap oracle for the value.
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> NoReturn:
        # Pickling (or copying through pickle) would write the value out in clear.
        raise TypeError("a Secret cannot be pickled")


@attrs.frozen
class Credentials:
    key_id: Secret
    secret_key: Secret
    # Further venue secrets by name (Tradovate's client id and secret).
    extra: Mapping[str, Secret] = attrs.field(factory=dict)


def load_credentials(
    kind: BrokerKind, environ: Mapping[str, str], credentials_directory: str | None
) -> Credentials:
    """The credentials for a venue ``kind``; ``ConfigError`` names what is missing."""
    lookup = _Lookup(environ, credentials_directory)
    match kind:
        case "alpaca":
            return Credentials(lookup.required(_ALPACA[0]), lookup.required(_ALPACA[1]))
        case "tradovate":
            extra = {name: s for name in _TRADOVATE_EXTRA if (s := lookup.optional(name))}
            return Credentials(
                lookup.required(_TRADOVATE[0]), lookup.required(_TRADOVATE[1]), extra
            )
        case "paper":
            key_id, secret_key = (lookup.optional(name) for name in _ALPACA)
            if key_id is None and secret_key is None:
                return Credentials(Secret(PAPER_KEY_ID), Secret(PAPER_SECRET_KEY))
            return Credentials(lookup.required(_ALPACA[0]), lookup.required(_ALPACA[1]))
    raise ConfigError(f"unknown broker kind {kind!r}")


@attrs.frozen
class _Lookup:
    environ: Mapping[str, str]
    directory: str | None

    def optional(self, name: str) -> Secret | None:
        if self.directory:
            path = Path(self.directory) / name
            if path.is_file():
                try:
                    value = path.read_text(encoding="utf-8").strip()
                except (OSError, UnicodeDecodeError) as exc:
                    # Named by file and error kind only: a decode error would quote content.
                    raise ConfigError(
                        f"credential file {path} cannot be read: {type(exc).__name__}"
                    ) from None
                if value:
                    return Secret(value)
        value = self.environ.get(name, "").strip()
        return Secret(value) if value else None

    def required(self, name: str) -> Secret:
        secret = self.optional(name)
        if secret is None:
            where = "the environment"
            if self.directory:
                where = f"a file in $CREDENTIALS_DIRECTORY ({self.directory}) or the environment"
            raise ConfigError(f"credential {name} is missing: set it in {where}")
        return secret
