"""OpinionAPI as a resource and a plain object: config checks, the missing-key path, secrets."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from dagster import EnvVar, asset, materialize
from pydantic import ValidationError

from opinion_pipeline.opinion_api import (
    MISSING_KEY_MESSAGE,
    MissingAPIKeyError,
    OpinionAPI,
    OpinionAPIError,
    OpinionConfigError,
    unofficial,
)
from opinion_pipeline_tests.opinion_api.stub_server import Reply, StubServer, ok, stub_server

KEY = "sk-unit-ZQX-distinctive-0b5e2d"
WALLET = "0x" + "ab" * 20


@pytest.fixture
def server():
    with stub_server() as srv:
        yield srv


def client(server: StubServer, tmp_path: Path, **overrides) -> OpinionAPI:
    options = {
        "base_url": server.url,
        "api_key": KEY,
        "limiter_dir": str(tmp_path / "limiter"),
        "rate_limit_per_second": 1000.0,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.02,
    }
    options.update(overrides)
    return OpinionAPI(**options)


def test_defaults() -> None:
    api = OpinionAPI(api_key="x")
    assert api.base_url == "https://openapi.opinion.trade/openapi"
    assert api.leaderboard_url == "https://proxy.opinion.trade:8443/api/bsc/api/v2/leaderboard"
    assert api.rate_limit_per_second == 14.4 and api.max_retries == 3
    assert (api.connect_timeout_s, api.read_timeout_s) == (5.0, 20.0)
    assert api.chain_id == "56" and api.limiter_dir is None


def test_repr_and_str_hide_the_key() -> None:
    api = OpinionAPI(api_key=KEY)
    for text in (repr(api), str(api), f"{api}", repr([api])):
        assert KEY not in text and "api_key='***'" in text
    assert "EnvVar('OPINION_API_KEY')" in repr(OpinionAPI(api_key=EnvVar("OPINION_API_KEY")))


def test_bad_base_url_names_the_variable() -> None:
    for bad in ("openapi.opinion.trade", "ftp://x/y", "http://", ""):
        with pytest.raises(ValidationError, match="OPINION_API_BASE_URL"):
            OpinionAPI(base_url=bad, api_key="x")
    assert OpinionAPI(base_url="http://127.0.0.1:9/openapi/").base_url.endswith("/openapi")


@pytest.mark.parametrize("key", ["", "   "])
def test_missing_key_fails_before_any_request(server: StubServer, tmp_path: Path, key: str) -> None:
    api = client(server, tmp_path, api_key=key)
    with pytest.raises(MissingAPIKeyError) as info:
        api.list_markets()
    assert server.seen == []
    message = str(info.value)
    assert "OPINION_API_KEY" in message and "docs.opinion.trade" in message
    assert "Opinion Open API" in message and "python -m opinion_pipeline.simulator" in message
    assert isinstance(info.value, OpinionConfigError) and isinstance(info.value, ValueError)


def test_unset_envvar_in_plain_use_is_the_missing_key_error(
    server: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPINION_API_KEY", raising=False)
    api = client(server, tmp_path, api_key=EnvVar("OPINION_API_KEY"))
    with pytest.raises(MissingAPIKeyError):
        api.get_market(1)
    assert server.seen == []
    monkeypatch.setenv("OPINION_API_KEY", KEY)
    server.set_script([ok({"data": {"marketId": 1}})])
    assert client(server, tmp_path, api_key=EnvVar("OPINION_API_KEY")).get_market(1) == {
        "marketId": 1
    }
    assert server.seen[0].headers["apikey"] == KEY


def test_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPINION_API_KEY", raising=False)
    monkeypatch.delenv("OPINION_API_BASE_URL", raising=False)
    assert OpinionAPI.from_env().api_key == ""
    monkeypatch.setenv("OPINION_API_KEY", KEY)
    monkeypatch.setenv("OPINION_API_BASE_URL", "http://127.0.0.1:1/openapi")
    monkeypatch.setenv("OPINION_RATE_LIMIT_DIR", str(tmp_path))
    api = OpinionAPI.from_env(max_retries=1)
    assert isinstance(api.api_key, EnvVar) and KEY not in repr(api)
    assert api.base_url == "http://127.0.0.1:1/openapi" and api.limiter_dir == str(tmp_path)
    assert api.max_retries == 1


@asset
def probe_markets(opinion_api: OpinionAPI) -> int:
    return len(opinion_api.list_markets())


def _run_failure_text(result) -> str:
    texts = []
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            texts.append(error.message)
            error = error.cause
    return "\n".join(texts)


def test_dagster_run_without_key_fails_with_the_clear_message(
    server: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPINION_API_KEY", raising=False)
    resource = OpinionAPI.from_env(base_url=server.url, limiter_dir=str(tmp_path))
    result = materialize([probe_markets], resources={"opinion_api": resource}, raise_on_error=False)
    assert not result.success
    assert MISSING_KEY_MESSAGE in _run_failure_text(result)
    assert server.seen == []


def test_dagster_run_with_envvar_key(
    server: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPINION_API_KEY", KEY)
    server.set_script([ok({"total": 1, "list": [{"marketId": 5}]})])
    resource = OpinionAPI.from_env(base_url=server.url, limiter_dir=str(tmp_path))
    result = materialize([probe_markets], resources={"opinion_api": resource})
    assert result.success and result.output_for_node("probe_markets") == 1
    assert server.seen[0].headers["apikey"] == KEY


def test_list_markets_pages_with_the_contract_params(server: StubServer, tmp_path: Path) -> None:
    rows = [{"marketId": i} for i in range(45)]
    server.set_script(
        [
            ok({"total": 45, "list": rows[:20]}),
            ok({"total": 45, "list": rows[20:40]}),
            ok({"total": 45, "list": rows[40:]}, dialect="code"),
        ]
    )
    api = client(server, tmp_path)
    assert api.list_markets(status="activated") == rows
    queries = [parse_qs(urlsplit(s.path).query) for s in server.seen]
    assert [q["page"] for q in queries] == [["1"], ["2"], ["3"]]
    for q in queries:
        assert q["limit"] == ["20"] and q["chainId"] == ["56"] and q["marketType"] == ["2"]
        assert q["status"] == ["activated"]
    assert api.stats()["pages"] == 3 and api.stats()["requests"] == 3


def test_list_markets_drops_a_market_repeated_by_a_shift(
    server: StubServer, tmp_path: Path
) -> None:
    first = [{"marketId": i} for i in range(20)]
    second = [{"marketId": 19}, {"marketId": 20}]
    server.set_script([ok({"total": 22, "list": first}), ok({"total": 22, "list": second})])
    assert [r["marketId"] for r in client(server, tmp_path).list_markets()] == list(range(21))


def test_argument_checks_send_nothing(server: StubServer, tmp_path: Path) -> None:
    api = client(server, tmp_path)
    with pytest.raises(OpinionConfigError, match="wallet"):
        api.fetch_wallet_trades("0x12/../market")
    with pytest.raises(OpinionConfigError, match="milliseconds"):
        api.fetch_wallet_trades(WALLET, watermark=1_700_000_000_000)
    with pytest.raises(OpinionConfigError):
        api.list_markets(status="open")
    with pytest.raises(OpinionConfigError):
        unofficial.leaderboard(api, "likes", 0)
    assert server.seen == []


def test_stats_reset_and_shape(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(503), ok({"data": {"marketId": 3}})])
    api = client(server, tmp_path)
    api.get_market(3)
    stats = api.stats()
    assert stats["requests"] == 2 and stats["retries"] == 1 and stats["server_errors"] == 1
    assert all(isinstance(v, (int, float)) for v in stats.values())
    api.reset_stats()
    assert api.stats()["requests"] == 0


def test_no_secret_in_logs_errors_or_stats(
    server: StubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.set_script([Reply(500, body=KEY), Reply(401, body={"errno": 401, "errmsg": KEY})])
    api = client(server, tmp_path)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(OpinionAPIError) as info:
        api.list_wallet_positions(WALLET)
    texts = [caplog.text, str(info.value), repr(info.value), repr(api), str(api.stats())]
    assert caplog.records  # the retry was logged...
    assert all(KEY not in text for text in texts)  # ...without the key
    assert info.value.status == 401


def test_client_usable_after_close(server: StubServer, tmp_path: Path) -> None:
    server.set_script([ok({"data": {"marketId": 3}})])
    api = client(server, tmp_path)
    api.get_market(3)
    api.close()
    assert api.get_market(3) == {"marketId": 3}


def test_plain_envvar_unset_is_dagsters_generic_error(
    server: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why from_env() exists: Dagster 1.13 rejects an unset EnvVar during config resolution,
    before any resource code runs, with a message that names the variable but not the cure."""
    from dagster import DagsterInvalidConfigError

    monkeypatch.delenv("OPINION_API_KEY", raising=False)
    resource = client(server, tmp_path, api_key=EnvVar("OPINION_API_KEY"))
    with pytest.raises(DagsterInvalidConfigError, match='"OPINION_API_KEY" which is not set'):
        materialize([probe_markets], resources={"opinion_api": resource})
    assert server.seen == []


def test_malformed_market_ids_are_all_passed_on_not_taken_for_repeats(
    server: StubServer, tmp_path: Path
) -> None:
    # Two rows with the same bad id are two rows for validation to reject, not a page shift's
    # repeat; a valid id seen twice is one.
    rows = [{"marketId": 1}, {"marketId": "abc"}, {"marketId": "abc"}, {}, {}, {"marketId": 1}]
    server.set_script([ok({"total": len(rows), "list": rows})])
    listed = client(server, tmp_path).list_markets()
    assert [row.get("marketId") for row in listed] == [1, "abc", "abc", None, None]
