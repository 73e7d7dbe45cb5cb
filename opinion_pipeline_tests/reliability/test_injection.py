"""Injection: hostile labels, titles and addresses are stored verbatim, never run, shown inert.

Labels come from the whales file, trade and market titles from payloads (a synthetic payload
through the same validation and upsert as a sync), addresses from both. The jobs then run on a
real Dagster instance against the simulator, and the markdown the UI would show (the activity
feed, the whale stats table, the payload check's failures) is rendered and checked: every row
intact, no link, no tag, no formatting, and each hostile text displayed as text.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import dagster as dg
import pytest

from opinion_pipeline.defs.markets.store import upsert_markets
from opinion_pipeline.defs.markets.validate import prepare_markets
from opinion_pipeline.defs.whale_registry.registry_file import WhaleRegistryError
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.opinion_api import OpinionAPIError
from opinion_pipeline.reporting.checks import payload_check
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.sync.report import SyncReport
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.factories import trade_row
from opinion_pipeline_tests.pipeline.helpers import run_job
from opinion_pipeline_tests.reliability.figures import record
from opinion_pipeline_tests.reliability.helpers import fast_client
from opinion_pipeline_tests.reliability.markdown_check import cell_texts, problems, shown_as

SQL = "'); DROP TABLE trades; --"
HOSTILE = [
    'O\'Brien "the whale"',
    SQL,
    "| [x](javascript:alert(1)) **b**",
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "bell\x07 esc\x1b[31m tab\tnul\x00 end",
    'a,comma "quoted" label',
    "`code` _em_ # heading ~~gone~~ [ref]: javascript:alert(3)",
    "Robert'); DELETE FROM whales WHERE ('1'='1",
]
TITLES = [*HOSTILE, "line\nbreak\r\n| forged | row |", "sep\u2028arator \x1c\x1d\x1e"]
GOOD = "0x" + "ab" * 20
EXTRA_WALLET = "0x" + "5a" * 20  # tracked, unknown to the simulator: carries synthetic trades


def _whales_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["address", "label", "tags"])
    writer.writerows([address, label, "x"] for address, label in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _market(truth: dict, market_id: int, title: str) -> dict:
    row = {key: value for key, value in truth.items() if key != "childMarkets"}
    return {**row, "marketId": market_id, "marketTitle": title, "rules": title, "marketType": 0}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_hostile_text_is_stored_verbatim_and_rendered_inert(
    fast_sim: SimulatorProcess, api_key: str, tmp_path: Path, monkeypatch
) -> None:
    wallets = [wallet["address"] for wallet in fast_sim.wallets()]
    labelled = [*zip(wallets, HOSTILE, strict=True), (EXTRA_WALLET, "extra <b>bold</b>")]
    whales = _whales_csv(tmp_path / "whales.csv", labelled)
    data = tmp_path / "data"
    for name, value in {
        "OPINION_API_KEY": api_key,
        "OPINION_API_BASE_URL": fast_sim.base_url,
        "OPINION_WHALES_FILE": str(whales),
        "OPINION_DATA_DIR": str(data),
        "OPINION_RATE_LIMIT_DIR": str(tmp_path / "limiter"),
        "OPINION_WHALE_ALERT_USD": "0",  # every trade enters the feed, labels included
    }.items():
        monkeypatch.setenv(name, value)
    warehouse = DuckDBWarehouse(path=str(data / "warehouse.duckdb"))
    sync_whale_registry(warehouse, whales)
    truth_market = fast_sim.truth_markets()[0]
    markets = prepare_markets([_market(truth_market, 900_000 + i, t) for i, t in enumerate(TITLES)])
    future = fast_sim.clock()["now"] + 86_400  # newest in the feed, so the UI table shows them
    trades = prepare_trades(
        EXTRA_WALLET,
        [trade_row(marketTitle=t, createdAt=future + i) for i, t in enumerate(TITLES)],
    )
    assert not markets.rejects and not trades.rejects, "hostile text is valid text"
    with warehouse.transaction() as conn:
        upsert_markets(DuckDBSession(conn), markets.rows)
        insert_trades(DuckDBSession(conn), trades.rows, run_id="hostile", alert_usd=0)

    with dg.instance_for_test() as instance:
        assert run_job(instance, "sync_whale_trades").success
        assert run_job(instance, "compute_whale_stats").success
        feed = _metadata(instance, "whale_activity", "latest")
        stats = _metadata(instance, "whale_stats", "top_whales")

    with warehouse.connection(read_only=True) as conn:

        def column(sql: str) -> set[str]:
            return {value for (value,) in conn.execute(sql).fetchall()}

        labels = dict(conn.execute("SELECT address, label FROM whales").fetchall())
        titles = column("SELECT title FROM markets WHERE market_id >= 900000")
        rules = column("SELECT rules FROM markets WHERE market_id >= 900000")
        traded = column("SELECT market_title FROM trades")
        fed = column("SELECT market_title FROM whale_activity")
        tables = column("SELECT table_name FROM information_schema.tables")
        counts = conn.execute("SELECT count(*) FROM trades").fetchone()[0]
    assert labels == dict(labelled), "labels stored byte for byte"
    assert titles == rules == set(TITLES) and set(TITLES) <= traded and set(TITLES) <= fed
    assert {"trades", "whales", "markets", "whale_activity"} <= tables and counts > len(TITLES)

    feed_problems = problems(feed, columns=7, rows=10)
    stats_problems = problems(stats, columns=7, rows=len(labelled))
    shown = cell_texts(feed) + cell_texts(stats)
    not_shown = [text for text in TITLES[:8] + HOSTILE if shown_as(text) not in shown]
    record(
        "injection/ui_and_storage",
        hostile_labels=len(HOSTILE),
        hostile_titles=len(TITLES),
        stored_verbatim=len(HOSTILE) + 2 * len(TITLES),
        markdown_problems=len(feed_problems) + len(stats_problems),
    )
    assert feed_problems == [] and stats_problems == [], (feed_problems, stats_problems, feed)
    assert not_shown == [], f"displayed differently: {not_shown}"


def test_apostrophes_display_as_apostrophes() -> None:
    table = markdown_table(["whale", "market"], [("O'Brien", "Will Trump's bill pass?")])
    assert cell_texts(table) == ["O'Brien", "Will Trump's bill pass?"]


def _metadata(instance: dg.DagsterInstance, asset: str, name: str) -> str:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    assert event is not None and event.asset_materialization is not None
    return str(event.asset_materialization.metadata[name].value)


def test_quarantined_hostile_rows_keep_their_raw_form_and_render_inert(tmp_path: Path) -> None:
    wallet = "0x" + "7e" * 20
    rows = [trade_row(marketTitle=text, txHash=text, side=text) for text in TITLES]
    batch = prepare_trades(wallet, rows)
    assert len(batch.rejects) == len(TITLES), "a hostile txHash or side is rejected"
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    rejects = [(wallet, reject) for reject in batch.rejects]
    with warehouse.transaction() as conn:
        assert DuckDBSession(conn).quarantine("trade", rejects, run_id="r") == len(TITLES)
    with warehouse.connection(read_only=True) as conn:
        stored = conn.execute("SELECT raw_json FROM quarantine").fetchall()
    raws = [json.loads(raw) for (raw,) in stored]
    assert sorted(raw["txHash"] for raw in raws) == sorted(TITLES)
    check = payload_check("whale_trades", SyncReport(rejects=rejects, quarantined=len(rejects)))
    table = str(check.metadata["failures"].value).split("\n\n", 1)[1]
    assert problems(table, columns=4, rows=len(TITLES)) == []


def test_hostile_addresses_are_refused_before_any_request(
    fast_sim: SimulatorProcess, api_key: str, tmp_path: Path
) -> None:
    whales = tmp_path / "whales.csv"
    whales.write_text(f"address,label,tags\n0x'; DROP TABLE trades; --,evil,\n{GOOD},ok,\n")
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    with pytest.raises(WhaleRegistryError, match="line 2"):
        sync_whale_registry(warehouse, whales)
    client = fast_client(fast_sim, api_key, tmp_path / "limiter")
    before = fast_sim.counters()["total"]["requests"]
    for address in ("0x' OR '1'='1", GOOD + "/../../market", "../../_sim/faults"):
        with pytest.raises((OpinionAPIError, ValueError)):
            client.fetch_wallet_trades(address)
    assert fast_sim.counters()["total"]["requests"] == before, "nothing was sent"
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM whales").fetchone()[0] == 0
