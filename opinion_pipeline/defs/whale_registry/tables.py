"""The whales table: the registry as last loaded, plus each whale's polling state."""

from opinion_pipeline.tables import TIMESTAMP, Column, RowLimits, Table

_UTC = "(UTC)"

WHALES = Table(
    name="whales",
        row_limits=RowLimits(warn=10_000, error=100_000),
    description="The tracked universe: the registry file's pins and the whales discovery "
    "admitted, with provenance and polling state.",
    key=("address",),
    columns=(
        Column("address", "VARCHAR", "Wallet address (natural key): lowercase 0x + 40 hex.",
               nullable=False),
        Column("label", "VARCHAR", "Human label from the registry file.", nullable=False),
        Column("tags", "VARCHAR[]", "Tags from the registry file (';'-separated there).",
               nullable=False),
        Column("in_registry", "BOOLEAN",
               "Whether the wallet is tracked now: listed in the registry file, or admitted by "
               "discovery (false once removed from the file or marked exclude).",
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
        Column("source", "VARCHAR",
               "Provenance: registry (the file), leaderboard or holders (discovery).",
               nullable=False, default="'registry'"),
        Column("admitted_at", TIMESTAMP,
               f"When it entered the tracked universe {_UTC} (file: first listed)."),
        Column("discovery_dropped_at", TIMESTAMP,
               f"A discovered whale no source has shown for OPINION_DISCOVERY_DROP_DAYS (or not "
               f"admitted any more) since {_UTC}: polled as rarely as an inactive whale; NULL "
               f"while admitted."),
    ),
)  # fmt: skip

REGISTRY_EXCLUSIONS = Table(
    name="registry_exclusions",
        row_limits=RowLimits(warn=10_000, error=100_000),
    description="Addresses the registry file marks exclude (tag 'exclude'): never tracked.",
    key=("address",),
    columns=(
        Column("address", "VARCHAR", "Wallet address, lowercase.", nullable=False),
        Column("label", "VARCHAR", "Label on the file's line.", nullable=False),
        Column("listed_at", TIMESTAMP, f"When the file last listed it as excluded {_UTC}.",
               nullable=False),
    ),
)  # fmt: skip
