"""Each fault mode, observed from a raw HTTP client, plus the /_sim/faults route itself."""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests

from opinion_pipeline.simulator import SimulatorProcess
from opinion_pipeline_tests.simulator.helpers import (
    ADDRESS,
    API_KEY,
    TX_HASH,
    check_trade,
    get_ok,
    is_decimal,
    is_int,
)

SetFaults = Callable[..., dict]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """One simulator for this module; each test resets the faults it set."""
    with SimulatorProcess(API_KEY, clock_speed=0, start_time=1_750_000_000, rate_limit=0) as proc:
        yield proc


@pytest.fixture
def faults(sim: SimulatorProcess) -> Iterator[SetFaults]:
    yield sim.set_faults
    sim.reset_faults()


def _heavy(sim: SimulatorProcess) -> str:
    return next(w["address"] for w in sim.wallets() if w["profile"] == "heavy")


def _trades_url(sim: SimulatorProcess) -> str:
    return f"{sim.base_url}/trade/user/{_heavy(sim)}?limit=20"


def test_faults_route_merges_resets_and_rejects_unknown_fields(
    sim: SimulatorProcess, faults: SetFaults
):
    defaults = sim.faults()
    assert defaults == {
        "latency_ms": 0.0, "latency_jitter_ms": 0.0, "error_rate": 0.0, "burst_429": 0,
        "drop_rate": 0.0, "truncate_rate": 0.0, "malformed_rate": 0.0, "errno_rate": 0.0,
        "envelope": "errno", "side_case": "upper", "usd_amount_scaled": False,
        "null_empty_list": False, "refuse_region": False, "unofficial_routes": "up",
        "safe_proxy_rate": 0.0,
    }  # fmt: skip
    assert faults(latency_ms=5)["latency_ms"] == 5
    merged = faults(side_case="title")
    assert merged["latency_ms"] == 5 and merged["side_case"] == "title"
    bad_updates = [
        ({"nonsense": 1}, "nonsense"),
        ({"error_rate": 2}, "error_rate"),
        ({"envelope": "xml"}, "envelope"),
        ({"burst_429": -1}, "burst_429"),
    ]
    for bad, name in bad_updates:
        response = requests.post(f"{sim.root_url}/_sim/faults", json=bad, timeout=5)
        assert response.status_code == 400 and name in response.text
    assert sim.reset_faults() == defaults


def test_latency(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    url = _trades_url(sim)
    api.get(url, timeout=10)
    faults(latency_ms=150, latency_jitter_ms=50)
    started = time.monotonic()
    assert api.get(url, timeout=10).status_code == 200
    assert 0.15 <= time.monotonic() - started < 1.5
    started = time.monotonic()
    assert requests.get(f"{sim.root_url}/_sim/clock", timeout=5).status_code == 200
    assert time.monotonic() - started < 0.15, "control routes are never faulted"


def test_error_rate(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(error_rate=1.0)
    statuses = {api.get(_trades_url(sim), timeout=10).status_code for _ in range(30)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    body = api.get(_trades_url(sim), timeout=10).json()
    assert body["errno"] in (500, 502, 503) and body["result"] is None
    assert sim.counters()["total"]["server_errors"] >= 31


def test_burst_429(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(burst_429=3)
    responses = [api.get(_trades_url(sim), timeout=10) for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200]
    assert responses[0].headers["Retry-After"] == "1"
    assert responses[0].json()["errno"] == 429
    assert sim.faults()["burst_429"] == 0


def test_drop(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.get(_trades_url(sim), timeout=10)
    sim.reset_faults()
    assert api.get(_trades_url(sim), timeout=10).status_code == 200


def _raw_get(url: str) -> tuple[int, bytes]:
    """(announced Content-Length, body bytes actually received) over a plain socket."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\napikey: {API_KEY}\r\n\r\n"
        conn.sendall(request.encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    return length, body


def test_truncate(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(truncate_rate=1.0)
    length, body = _raw_get(_trades_url(sim))
    assert 0 < len(body) < length
    with pytest.raises(requests.exceptions.RequestException):
        api.get(_trades_url(sim), timeout=10).json()
    assert sim.counters()["total"]["truncated"] >= 2


def test_malformed_rows(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(malformed_rate=1.0)
    rows = get_ok(api, _trades_url(sim))["list"]
    assert len(rows) == 20
    for row in rows:
        broken = (
            not TX_HASH.match(str(row.get("txHash", "")))
            or not is_int(row.get("marketId"))
            or not is_int(row.get("createdAt"))
            or not is_decimal(row.get("amount"))
            or Decimal(row["amount"]) < 0
            or Decimal(row["shares"]) < 0
            or not ADDRESS.match(str(row.get("quoteToken", "")).lower())
        )
        assert broken, row
    markets = get_ok(api, f"{sim.base_url}/market", marketType=2, limit=20)["list"]
    assert all(
        not is_int(m.get("marketId")) or not is_int(m.get("createdAt"))
        or not is_decimal(m.get("volume")) or Decimal(m["volume"]) < 0
        or m.get("quoteToken") == "not-an-address" or m.get("yesTokenId") == "0x123"
        for m in markets
    )  # fmt: skip
    assert sim.counters()["total"]["malformed_rows"] >= 40
    faults(malformed_rate=0.3)
    rows = []
    for page in range(1, 6):
        rows += get_ok(api, _trades_url(sim), page=page)["list"]
    clean = 0
    for row in rows:
        try:
            check_trade(row)
            clean += 1
        except (AssertionError, KeyError, TypeError, ArithmeticError):
            pass
    assert 40 <= clean <= 95


def test_errno_rate(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(errno_rate=1.0)
    response = api.get(_trades_url(sim), timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["errno"] == 10000 and body["errmsg"] and body["result"] is None


def test_refuse_region_answers_every_request_with_errno_10403(
    sim: SimulatorProcess, faults: SetFaults, api: requests.Session
):
    faults(refuse_region=True)
    before = sim.counters()["total"]["region_refused"]
    for url in (_trades_url(sim), f"{sim.base_url}/market"):
        response = api.get(url, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"errno": 10403, "errmsg": "Invalid area", "result": None}
    assert sim.counters()["total"]["region_refused"] == before + 2
    faults(refuse_region=False)
    assert api.get(_trades_url(sim), timeout=10).json()["errno"] == 0


def test_envelopes(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(envelope="code")
    body = api.get(_trades_url(sim), timeout=10).json()
    assert set(body) == {"code", "msg", "result"} and body["code"] == 0
    assert requests.get(_trades_url(sim), timeout=10).json()["code"] == 401
    faults(envelope="alternate")
    shapes = [frozenset(api.get(_trades_url(sim), timeout=10).json()) for _ in range(4)]
    assert len(set(shapes)) == 2
    assert all(a != b for a, b in itertools.pairwise(shapes))


def test_side_case(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    faults(side_case="title")
    sides = {row["side"] for row in get_ok(api, _trades_url(sim))["list"]}
    assert sides <= {"Buy", "Sell", "Merge"} and sides
    faults(side_case="mixed")
    sides = set()
    for page in range(1, 4):
        sides |= {row["side"] for row in get_ok(api, _trades_url(sim), page=page)["list"]}
    assert sides & {"BUY", "SELL"} and sides & {"Buy", "Sell"}


def test_usd_amount_scaled(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    truth = sim.truth_trades(_heavy(sim))[:20]
    faults(usd_amount_scaled=True)
    rows = get_ok(api, _trades_url(sim))["list"]
    for row, canonical in zip(rows, truth, strict=True):
        assert Decimal(row["usdAmount"]) == Decimal(canonical["usdAmount"]) * 10**18
        assert row["amount"] == canonical["amount"]
    assert sim.truth_trades(_heavy(sim))[:20] == truth, "truth stays canonical"


def test_null_empty_list(sim: SimulatorProcess, faults: SetFaults, api: requests.Session):
    url = f"{sim.base_url}/trade/user/0x{'ef' * 20}"
    assert get_ok(api, url) == {"total": 0, "list": []}
    faults(null_empty_list=True)
    assert get_ok(api, url) == {"total": 0, "list": None}
    assert len(get_ok(api, _trades_url(sim))["list"]) == 20


def test_initial_faults_from_the_command_line():
    faults = {"envelope": "code", "latency_ms": 1}
    with SimulatorProcess(API_KEY, clock_speed=0, rate_limit=0, faults=faults) as proc:
        assert proc.faults()["envelope"] == "code"
        body = requests.get(f"{proc.base_url}/market", headers={"apikey": API_KEY}, timeout=5)
        assert json.loads(body.text)["code"] == 0
