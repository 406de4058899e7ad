"""The Alpaca Trading API v2 adapter (also the protocol of tradingd's paper venue)."""

from __future__ import annotations

from brokers.alpaca.client import AlpacaBroker

__all__ = ["AlpacaBroker"]
