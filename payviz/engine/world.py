"""A World: the five parties, their keys and secrets, wired to one network and trace."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from pathlib import Path

from .actors.bank import Bank
from .actors.browser import ScriptedBrowser
from .actors.gateway import Gateway
from .actors.merchant import Merchant
from .actors.merchant_db import OrderBook
from .actors.processor import Processor
from .capture import Recorder
from .clock import Clock
from .delivery import Dispatcher
from .jwe import KeyPair
from .network import Network, Transport
from .trace import Trace
from .webhooks import new_secret


@dataclass(frozen=True, slots=True)
class Secrets:
    """Everything secret in a world; what the key log exports."""

    processor_keys: KeyPair
    webhook_secrets: dict[str, str]  # receiver -> whsec_
    return_secret: str
    gateway_api_key: str
    processor_api_key: str
    merchant_processor_key: str

    @classmethod
    def generate(cls) -> Secrets:
        return cls(
            processor_keys=KeyPair.generate(),
            webhook_secrets={"gateway": new_secret(), "merchant": new_secret()},
            return_secret=new_secret(),
            gateway_api_key="sk_test_" + secrets.token_hex(12),
            processor_api_key="gw_live_" + secrets.token_hex(12),
            merchant_processor_key="pk_shop_" + secrets.token_hex(12),
        )


class World:
    """The actors of one session on one wire.

    Attributes:
        merchant, gateway, processor, bank: the services.
        browser: the scripted customer.
        network, recorder, trace, clock, dispatcher: the plumbing they share.
    """

    def __init__(
        self,
        trace: Trace,
        clock: Clock,
        transport: Transport = "inprocess",
        db_path: Path | None = None,
        seed: int = 0,
        keys: Secrets | None = None,
        queued_notifications: bool = True,
        port_base: int | None = None,
    ) -> None:
        self.trace = trace
        self.clock = clock
        self.secrets = keys or Secrets.generate()
        self.recorder = Recorder(trace, clock)
        self.network = Network(self.recorder, clock, transport, port_base)
        self.dispatcher = Dispatcher(clock, random.Random(seed), queued=queued_notifications)
        s = self.secrets
        self.bank = Bank(self.recorder, clock)
        self.bank.faults = self.network.faults
        self.processor = Processor(
            self.network,
            self.recorder,
            clock,
            self.dispatcher,
            s.processor_keys,
            s.webhook_secrets,
            s.processor_api_key,
            {s.merchant_processor_key: "merchant_payviz_shop"},
            s.return_secret,
        )
        self.gateway = Gateway(
            self.network,
            self.recorder,
            clock,
            self.dispatcher,
            s.processor_keys.kid,
            s.processor_keys.public_pem,
            s.processor_api_key,
            s.webhook_secrets["gateway"],
            s.webhook_secrets["merchant"],
            {s.gateway_api_key: "merchant_payviz_shop"},
        )
        self.orders = OrderBook(db_path or ":memory:")
        self.merchant = Merchant(
            self.network,
            self.recorder,
            clock,
            self.orders,
            s.gateway_api_key,
            s.merchant_processor_key,
            s.webhook_secrets["merchant"],
            s.return_secret,
        )
        for party, actor in (
            ("merchant", self.merchant),
            ("gateway", self.gateway),
            ("processor", self.processor),
            ("bank", self.bank),
        ):
            self.network.register(party, actor.app)  # type: ignore[arg-type]
        self.browser: ScriptedBrowser | None = None

    async def start(self) -> None:
        await self.network.start()
        self.browser = ScriptedBrowser(self.network.client("browser"))

    async def settle(self) -> None:
        """Let every background delivery and forwarding finish (retries included)."""
        while True:
            await self.gateway.idle()
            await self.dispatcher.idle()
            await self.network.drain()
            busy = self.gateway.has_background() or self.dispatcher.busy() or self.network.busy()
            if not busy:
                return

    async def close(self, *, settle: bool = True) -> None:
        if settle:
            await self.settle()
        else:
            await self.dispatcher.cancel()
            await self.gateway.cancel()
        await self.network.close()
        self.orders.close()

    def keylog(self) -> dict[str, object]:
        s = self.secrets
        return {
            "jwe_keys": [
                {"kid": s.processor_keys.kid, "private_key_pem": s.processor_keys.private_pem}
            ],
            "webhook_secrets": dict(s.webhook_secrets),
            "return_url_secret": s.return_secret,
            "ca_cert_pem": self.network.ca_cert_pem,
        }
