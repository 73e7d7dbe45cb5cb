"""OpinionAPI against a real simulator process over HTTP: endpoints, paging, faults, secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from opinion_pipeline.opinion_api import (
    MissingAPIKeyError,
    OpinionApplicationError,
    OpinionAuthError,
    OpinionNotFoundError,
    OpinionRateLimitedError,
    OpinionRegionRefusedError,
    OpinionRetriesExhaustedError,
    OpinionTimeoutError,
    unofficial,
)
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.opinion_api.helpers import (
    api_form,
    counters_for,
    distinctive_key,
    make_api,
)

UNKNOWN_WALLET = "0x" + "00" * 19 + "01"
WORLD = {"seed": 7, "markets": 30, "wallets": 8, "history_days": 3, "clock_speed": 0.0}


@pytest.fixture(scope="module")
def key() -> str:
    return distinctive_key()


@pytest.fixture(scope="module")
def sim(key: str) -> Iterator[SimulatorProcess]:
    """Frozen clock, no rate limit (pacing has its own tests): fast and reproducible."""
    with SimulatorProcess(key, rate_limit=0, **WORLD) as process:
        yield process


@pytest.fixture(autouse=True)
def clean_faults(sim: SimulatorProcess) -> Iterator[None]:
    sim.reset_faults()
    sim.reset_counters()
    yield
    sim.reset_faults()


@pytest.fixture(scope="module")
def wallets(sim: SimulatorProcess) -> dict[str, dict]:
    """address -> {label, profile, truth (API form)}."""
    return {
        w["address"]: {**w, "truth": api_form(sim.truth_trades(w["address"]))}
        for w in sim.wallets()
    }


@pytest.fixture(scope="module")
def heavy(wallets: dict[str, dict]) -> str:
    return max(wallets, key=lambda a: len(wallets[a]["truth"]))


@pytest.fixture
def api(sim: SimulatorProcess, key: str, tmp_path: Path):
    client = make_api(sim, key, tmp_path)
    yield client
    client.close()


# -- endpoints ----------------------------------------------------------------------------------
def test_list_markets_matches_truth(sim: SimulatorProcess, api) -> None:
    rows = api.list_markets()
    truth = {m["marketId"]: m for m in sim.truth_markets()}
    assert sorted(r["marketId"] for r in rows) == sorted(truth)
    assert all(row == truth[row["marketId"]] for row in rows)
    assert api.stats()["pages"] == -(-len(truth) // 20)
    pages = list(api.iter_market_pages())
    assert [r for page in pages for r in page] == rows and all(len(p) <= 20 for p in pages)
    active = api.list_markets(status="activated")
    assert active and all(r["statusEnum"] == "Activated" for r in active)


def test_market_details(sim: SimulatorProcess, api) -> None:
    markets = sim.truth_markets()
    binary = next(m for m in markets if m["marketType"] == 0)
    categorical = next(m for m in markets if m["marketType"] == 1)
    data = api.get_market(binary["marketId"])
    assert data["marketId"] == binary["marketId"] and data["yesTokenId"] == binary["yesTokenId"]
    cat = api.get_categorical_market(categorical["marketId"])
    assert [c["marketId"] for c in cat["childMarkets"]] == [
        c["marketId"] for c in categorical["childMarkets"]
    ]
    sim.reset_counters()
    with pytest.raises(OpinionNotFoundError):
        api.get_market(987_654_321)
    with pytest.raises(OpinionNotFoundError):
        api.get_categorical_market(binary["marketId"])
    assert counters_for(sim, api.api_key)["requests"] == 2  # 404s are not retried


def test_every_wallet_full_history_equals_truth(wallets: dict, api) -> None:
    for address, wallet in wallets.items():
        result = api.fetch_wallet_trades(address)
        truth = wallet["truth"]
        assert result.rows == truth, wallet["label"]
        assert result.reached_end and result.total == len(truth)
        assert result.pages == max(1, -(-len(truth) // 20))
        assert result.shift_duplicates_dropped == 0 and result.restarts == 0


def test_concurrent_wallet_fetches_share_one_client(wallets: dict, api) -> None:
    addresses = list(wallets) * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(api.fetch_wallet_trades, addresses))
    for address, result in zip(addresses, results, strict=True):
        assert result.rows == wallets[address]["truth"]
    assert api.stats()["pages"] == sum(r.pages for r in results)


def test_positions_and_leaderboard(sim: SimulatorProcess, heavy: str, api) -> None:
    positions = api.list_wallet_positions(heavy)
    assert positions and all("tokenId" in p and "sharesOwned" in p for p in positions)
    assert api.list_wallet_positions(UNKNOWN_WALLET) == []
    board = unofficial.leaderboard(api, "volume", 0, limit=5)
    assert 0 < len(board) <= 5 and all("walletAddress" in row for row in board)
    assert {row["walletAddress"] for row in unofficial.leaderboard(api, "profit", 7)} <= {
        w["address"] for w in sim.wallets() + sim.traders()
    }


# -- paging edges -------------------------------------------------------------------------------
def test_unknown_wallet_is_one_empty_page(sim: SimulatorProcess, api) -> None:
    result = api.fetch_wallet_trades(UNKNOWN_WALLET)
    assert result.rows == [] and result.pages == 1 and result.reached_end and result.total == 0


def test_null_empty_list(sim: SimulatorProcess, api) -> None:
    sim.set_faults(null_empty_list=True)
    result = api.fetch_wallet_trades(UNKNOWN_WALLET)
    assert result.rows == [] and result.pages == 1 and result.total == 0
    assert api.list_wallet_positions(UNKNOWN_WALLET) == []
    assert counters_for(sim, api.api_key)["requests"] == 2


def test_watermark_nothing_new_is_one_request_and_keeps_equal_timestamps(
    sim: SimulatorProcess, heavy: str, wallets: dict, api
) -> None:
    truth = wallets[heavy]["truth"]
    newest = truth[0]["createdAt"]
    sim.reset_counters()
    result = api.fetch_wallet_trades(heavy, watermark=newest)
    assert result.pages == 1 and counters_for(sim, api.api_key)["requests"] == 1
    assert result.reached_watermark and not result.reached_end
    at_mark = [row for row in truth if row["createdAt"] == newest]
    assert [row for row in result.rows if row["createdAt"] == newest] == at_mark
    # a watermark inside the history: everything at or after it comes back, in order
    middle = truth[45]["createdAt"]
    result = api.fetch_wallet_trades(heavy, watermark=middle)
    expected = [row for row in truth if row["createdAt"] >= middle]
    assert result.rows[: len(expected)] == expected
    assert all(row["createdAt"] < middle for row in result.rows[len(expected) :])
    assert result.pages == len(expected) // 20 + 1


# -- faults ---------------------------------------------------------------------------------------
def test_server_errors_are_retried_to_success(
    sim: SimulatorProcess, key: str, tmp_path: Path, heavy: str, wallets: dict
) -> None:
    sim.set_faults(error_rate=0.3)
    api = make_api(sim, key, tmp_path, max_retries=8)
    assert api.fetch_wallet_trades(heavy).rows == wallets[heavy]["truth"]
    assert api.list_markets()
    stats, served = api.stats(), counters_for(sim, key)
    assert stats["retries"] >= served["server_errors"] > 0
    assert stats["requests"] == served["requests"] and stats["errors"] == 0


def test_permanent_server_errors_fail_after_all_attempts(
    sim: SimulatorProcess, key: str, tmp_path: Path
) -> None:
    sim.set_faults(error_rate=1.0)
    api = make_api(sim, key, tmp_path, max_retries=3)
    with pytest.raises(OpinionRetriesExhaustedError) as info:
        api.get_market(1)
    assert info.value.attempts == 4 and "after 4 attempts" in str(info.value)
    assert counters_for(sim, key)["server_errors"] == 4
    assert api.stats()["errors"] == 1 and api.stats()["retries"] == 3


def test_burst_429_is_retried_after_retry_after(
    sim: SimulatorProcess, key: str, tmp_path: Path
) -> None:
    markets = sim.truth_markets()
    sim.set_faults(burst_429=2)
    api = make_api(sim, key, tmp_path)
    assert api.get_market(markets[0]["marketId"])["marketId"] == markets[0]["marketId"]
    stats = api.stats()
    assert stats["rate_limited"] == 2 and stats["backoff_wait_s"] >= 2.0  # Retry-After: 1, twice
    sim.set_faults(burst_429=5)
    with pytest.raises(OpinionRateLimitedError) as info:
        make_api(sim, key, tmp_path, max_retries=1).get_market(markets[0]["marketId"])
    assert info.value.attempts == 2


def test_dropped_and_truncated_responses_are_retried(
    sim: SimulatorProcess, key: str, tmp_path: Path, heavy: str, wallets: dict
) -> None:
    sim.set_faults(drop_rate=0.2, truncate_rate=0.2)
    api = make_api(sim, key, tmp_path, max_retries=8)
    assert api.fetch_wallet_trades(heavy).rows == wallets[heavy]["truth"]
    stats, served = api.stats(), counters_for(sim, key)
    assert stats["connection_errors"] == served["dropped"] > 0
    assert stats["truncated"] == served["truncated"] > 0


def test_latency_beyond_read_timeout(sim: SimulatorProcess, key: str, tmp_path: Path) -> None:
    sim.set_faults(latency_ms=600)
    api = make_api(sim, key, tmp_path, read_timeout_s=0.15, max_retries=1)
    with pytest.raises(OpinionTimeoutError) as info:
        api.list_wallet_positions(UNKNOWN_WALLET)
    assert info.value.attempts == 2 and api.stats()["timeouts"] == 2
    sim.set_faults(latency_ms=0, latency_jitter_ms=400)
    api = make_api(sim, key, tmp_path, read_timeout_s=0.25, max_retries=10)
    assert api.fetch_wallet_trades(UNKNOWN_WALLET).rows == []


def test_errno_responses(sim: SimulatorProcess, key: str, tmp_path: Path, heavy: str) -> None:
    sim.set_faults(errno_rate=0.3)
    api = make_api(sim, key, tmp_path, max_retries=8)
    assert len(api.fetch_wallet_trades(heavy).rows) > 0
    assert api.stats()["application_errors"] == counters_for(sim, key)["errno_errors"] > 0
    sim.set_faults(errno_rate=1.0, envelope="code")
    with pytest.raises(OpinionApplicationError) as info:
        make_api(sim, key, tmp_path, max_retries=2).get_market(1)
    assert info.value.errno == 10000 and "system busy" in info.value.errmsg
    assert info.value.attempts == 3


def test_region_refusal_fails_at_once(sim: SimulatorProcess, key: str, tmp_path: Path) -> None:
    """errno 10403 is not retried: one request, and the error says what to do."""
    sim.set_faults(refuse_region=True)
    before = counters_for(sim, key)["region_refused"]
    with pytest.raises(OpinionRegionRefusedError) as info:
        make_api(sim, key, tmp_path, max_retries=5).list_markets()
    assert counters_for(sim, key)["region_refused"] == before + 1
    assert info.value.attempts == 1 and "region" in str(info.value)
    assert "Retrying will not help" in str(info.value) and key not in str(info.value)


@pytest.mark.parametrize("style", ["errno", "code", "alternate"])
def test_envelopes(sim: SimulatorProcess, api, style: str, heavy: str, wallets: dict) -> None:
    sim.set_faults(envelope=style)
    assert api.fetch_wallet_trades(heavy).rows == wallets[heavy]["truth"]
    assert api.list_markets() and unofficial.leaderboard(api, "volume", 0)
    assert api.get_market(api.list_markets()[0]["marketId"])


def test_row_level_faults_pass_through_untouched(
    sim: SimulatorProcess, api, heavy: str, wallets: dict
) -> None:
    """Side casing, scaled usdAmount and malformed rows are the validation layer's business:
    the client returns them as the venue sent them, in order, and does not choke."""
    truth = wallets[heavy]["truth"]
    sim.set_faults(side_case="mixed", usd_amount_scaled=True)
    rows = api.fetch_wallet_trades(heavy).rows
    assert len(rows) == len(truth)
    assert any(r["side"] != r["side"].upper() for r in rows)
    for row, canonical in zip(rows, truth, strict=True):
        assert row["side"].upper() == canonical["side"]
        assert Decimal(row["usdAmount"]) == Decimal(canonical["usdAmount"]) * 10**18
    sim.set_faults(side_case="upper", usd_amount_scaled=False, malformed_rate=0.3)
    result = api.fetch_wallet_trades(heavy)
    assert len(result.rows) == len(truth) and result.reached_end
    assert sum(row != canonical for row, canonical in zip(result.rows, truth, strict=True)) > 0
    assert len(api.list_markets()) == len(sim.truth_markets())


# -- auth and secrets ---------------------------------------------------------------------------
def test_wrong_key_is_401_not_retried(sim: SimulatorProcess, tmp_path: Path) -> None:
    wrong = distinctive_key()
    api = make_api(sim, wrong, tmp_path)
    with pytest.raises(OpinionAuthError) as info:
        api.list_markets()
    assert "refused" in str(info.value) and wrong not in str(info.value)
    assert counters_for(sim, wrong)["unauthorized"] == 1
    assert counters_for(sim, wrong)["requests"] == 1


@pytest.mark.parametrize("bad_key", ["", "  "])
def test_missing_key_sends_nothing(sim: SimulatorProcess, tmp_path: Path, bad_key: str) -> None:
    api = make_api(sim, bad_key, tmp_path)
    with pytest.raises(MissingAPIKeyError, match="OPINION_API_KEY"):
        api.fetch_wallet_trades(UNKNOWN_WALLET)
    assert sim.counters()["total"]["requests"] == 0


def test_no_secret_in_any_output(
    sim: SimulatorProcess,
    key: str,
    tmp_path: Path,
    heavy: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.set_faults(error_rate=0.2, burst_429=1, drop_rate=0.1, truncate_rate=0.1)
    api = make_api(sim, key, tmp_path / "limiter", max_retries=8)
    api.fetch_wallet_trades(heavy)
    sim.set_faults(error_rate=1.0)
    with pytest.raises(OpinionRetriesExhaustedError) as info:
        make_api(sim, key, tmp_path / "limiter", max_retries=1).get_market(1)
    out, err = capfd.readouterr()
    texts = [caplog.text, out, err, str(info.value), repr(info.value), repr(api), str(api)]
    texts += [str(api.stats()), sim.stderr()]
    texts += [p.name + p.read_text() for p in (tmp_path / "limiter").iterdir()]
    assert "retry" in caplog.text  # something was logged...
    assert not [text for text in texts if key in text]  # ...and nothing shows the key
