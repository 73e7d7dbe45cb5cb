"""The simulated wallets (the "whales" the pipeline polls) and their whales-file form.

Profiles: heavy (~20%, ~4 trades/hour), light (~60%, ~0.2 trades/hour) and inactive (~20%, a
handful of trades 100-200 days before start and nothing since), so that a sync meets busy
wallets, quiet ones and ones that return nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

from opinion_pipeline.simulator.util import hex_id, seeded_rng

PROFILES = ("heavy", "light", "inactive")
TRADER_PROFILES = ("retail", "big")  # the untracked population discovery searches
TRADES_PER_HOUR = {"heavy": 4.0, "light": 0.2, "inactive": 0.0, "retail": 0.03, "big": 1.5}
BIG_TRADER_SHARE = 0.03
CSV_COMMENT = (
    "# The Opinion API simulator's wallets (seed {seed}, {count} wallets), for tests and demos.\n"
    "# With a real API key, use your own whales file instead of this one.\n"
)


@dataclass(frozen=True)
class Wallet:
    index: int
    address: str  # 0x + 40 lowercase hex
    label: str  # e.g. sim-heavy-03
    profile: str  # heavy | light | inactive


def profile_counts(count: int) -> dict[str, int]:
    heavy = max(1, round(count * 0.2)) if count else 0
    inactive = min(round(count * 0.2), count - heavy)
    return {"heavy": heavy, "light": count - heavy - inactive, "inactive": inactive}


def build_wallets(seed: int, count: int) -> list[Wallet]:
    """Deterministic wallets; profiles are shuffled so they do not follow the address order."""
    counts = profile_counts(count)
    profiles = [name for name in PROFILES for _ in range(counts[name])]
    seeded_rng(seed, "profiles").shuffle(profiles)
    width = max(2, len(str(count)))
    numbers = dict.fromkeys(PROFILES, 0)
    wallets = []
    for index, profile in enumerate(profiles):
        numbers[profile] += 1
        wallets.append(
            Wallet(
                index=index,
                address=hex_id(40, seed, "wallet", index),
                label=f"sim-{profile}-{numbers[profile]:0{width}d}",
                profile=profile,
            )
        )
    return wallets


def build_traders(seed: int, count: int, first_index: int) -> list[Wallet]:
    """Ordinary traders beyond the tracked wallets: most retail (rare, small trades), a
    heavy-tailed few big (frequent trades with heavy-profile sizes). Indexes follow the wallets'."""
    rng = seeded_rng(seed, "traders")
    traders = []
    numbers = dict.fromkeys(TRADER_PROFILES, 0)
    width = max(4, len(str(count)))
    for offset in range(count):
        profile = "big" if rng.random() < BIG_TRADER_SHARE else "retail"
        numbers[profile] += 1
        traders.append(
            Wallet(
                index=first_index + offset,
                address=hex_id(40, seed, "trader", offset),
                label=f"sim-{profile}-{numbers[profile]:0{width}d}",
                profile=profile,
            )
        )
    return traders


def whales_csv(wallets: list[Wallet], *, seed: int) -> str:
    """The wallets in the project's whale-file format (address,label,tags)."""
    lines = [CSV_COMMENT.format(seed=seed, count=len(wallets)), "address,label,tags\n"]
    lines.extend(f"{wallet.address},{wallet.label},{wallet.profile}\n" for wallet in wallets)
    return "".join(lines)
