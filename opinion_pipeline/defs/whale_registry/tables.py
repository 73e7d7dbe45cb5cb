"""The whales table: the registry as last loaded, plus each whale's polling state."""

from opinion_pipeline.tables import TIMESTAMP, Column, Table

_UTC = "(UTC)"

WHALES = Table(
    name="whales",
    description="The tracked wallets as last loaded from the registry file, with polling state.",
    key=("address",),
    columns=(
        Column("address", "VARCHAR", "Wallet address (natural key): lowercase 0x + 40 hex.",
               nullable=False),
        Column("label", "VARCHAR", "Human label from the registry file.", nullable=False),
        Column("tags", "VARCHAR[]", "Tags from the registry file (';'-separated there).",
               nullable=False),
        Column("in_registry", "BOOLEAN",
               "Whether the registry file lists the wallet now (false once removed).",
               nullable=False),
        Column("status", "VARCHAR", "Polling status: active or inactive.", nullable=False,
               default="'active'"),
        Column("first_listed_at", TIMESTAMP,
               f"When the wallet first appeared in the registry {_UTC}.", nullable=False),
        Column("last_listed_at", TIMESTAMP,
               f"When the registry file last listed the wallet {_UTC}.", nullable=False),
        Column("last_polled_at", TIMESTAMP,
               f"When the wallet's trades were last fetched {_UTC}."),
        Column("inactive_since", TIMESTAMP,
               f"When the wallet was marked inactive {_UTC}; NULL while active."),
    ),
)  # fmt: skip
