"""Transport rules: backoff arithmetic, Retry-After, envelopes, and each retry rule on the wire."""

from __future__ import annotations

import email.utils
import json
import random
import time
from pathlib import Path

import pytest

from opinion_pipeline.opinion_api import errors
from opinion_pipeline.opinion_api.rate_limiter import RateLimiter
from opinion_pipeline.opinion_api.stats import Stats
from opinion_pipeline.opinion_api.transport import (
    RETRY_AFTER_CAP_S,
    Transport,
    backoff_delay,
    describe_route,
    parse_envelope,
    parse_retry_after,
)
from opinion_pipeline_tests.opinion_api.stub_server import Reply, StubServer, ok, stub_server

pytestmark = pytest.mark.unit

KEY = "stub-key-DO-NOT-LEAK-7f3a9c"


# -- pure functions -----------------------------------------------------------------------------
def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(7.0)
    past = email.utils.formatdate(now - 60, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


def test_backoff_is_full_jitter_exponential_capped() -> None:
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        samples = [backoff_delay(retry, 0.5, 8.0, rng=rng) for _ in range(400)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > 0.8 * ceiling  # full jitter reaches the ceiling...
        assert min(samples) < 0.2 * ceiling  # ...and goes near zero
    assert backoff_delay(3, 0.0, 8.0) == 0.0


def test_backoff_honours_retry_after_as_minimum_with_cap() -> None:
    rng = random.Random(2)
    assert all(backoff_delay(1, 0.5, 8.0, retry_after_s=3.0, rng=rng) == 3.0 for _ in range(50))
    assert backoff_delay(1, 0.5, 8.0, retry_after_s=10_000, rng=rng) == RETRY_AFTER_CAP_S
    # a Retry-After smaller than the jittered wait does not shorten it
    assert backoff_delay(5, 100.0, 100.0, retry_after_s=0.001, rng=random.Random(3)) > 0.001


@pytest.mark.parametrize(
    "doc",
    [
        {"errno": 0, "errmsg": "", "result": {"total": 1}},
        {"errno": 0, "errmsg": "success", "result": {"total": 1}},
        {"code": 0, "msg": "success", "result": {"total": 1}},
        {"errno": "0", "errmsg": "", "result": {"total": 1}},
    ],
)
def test_envelope_both_dialects(doc: dict) -> None:
    assert parse_envelope(json.dumps(doc).encode(), "GET /x") == {"total": 1}


@pytest.mark.parametrize(
    ("doc", "errno", "msg"),
    [
        ({"errno": 10000, "errmsg": "token_id is required", "result": None}, 10000, "token_id"),
        ({"code": 500, "msg": "internal", "result": None}, 500, "internal"),
    ],
)
def test_envelope_errno_nonzero_is_application_error(doc: dict, errno: int, msg: str) -> None:
    with pytest.raises(errors.OpinionApplicationError) as info:
        parse_envelope(json.dumps(doc), "GET /openapi/market")
    assert info.value.errno == errno
    assert msg in info.value.errmsg
    assert "GET /openapi/market" in str(info.value)


@pytest.mark.parametrize(
    ("body", "truncated"),
    [
        ('{"errno": 0, "result": {"list": [{"a": "b', True),
        ('{"errno": 0, "result": {"list": [', True),
        ("", True),
        ("<html>502 Bad Gateway</html>", False),
        ("{not json}", False),
    ],
)
def test_envelope_payload_errors_name_route_and_flag_truncation(body: str, truncated: bool) -> None:
    with pytest.raises(errors.OpinionPayloadError) as info:
        parse_envelope(body, "GET /openapi/trade/user/0xabc")
    assert info.value.truncated is truncated
    assert "GET /openapi/trade/user/0xabc" in str(info.value)


def test_envelope_missing_or_wrong_shape() -> None:
    for body in ('{"result": {}}', "[1, 2]", '{"errno": 0}'):
        with pytest.raises(errors.OpinionPayloadError) as info:
            parse_envelope(body, "GET /r")
        assert not info.value.truncated
    # a short body against Content-Length is truncation even if it happened to parse badly
    with pytest.raises(errors.OpinionPayloadError) as info:
        parse_envelope("{bad}", "GET /r", content_length=500)
    assert info.value.truncated


def test_describe_route_never_includes_headers() -> None:
    route = describe_route("http://h/openapi/market", {"page": 2, "limit": 20, "x": None})
    assert route == "GET /openapi/market?page=2&limit=20"


def test_stats_snapshot_and_reset() -> None:
    stats = Stats()
    stats.add("requests")
    stats.add("limiter_wait_s", 0.25)
    snap = stats.snapshot()
    assert snap["requests"] == 1 and snap["limiter_wait_s"] == 0.25
    assert all(isinstance(v, (int, float)) for v in snap.values())
    stats.reset()
    assert stats.snapshot()["requests"] == 0


def test_errors_pickle_with_attributes() -> None:
    import pickle

    exc = errors.OpinionApplicationError("boom", route="GET /r", errno=7, errmsg="m")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is errors.OpinionApplicationError
    assert (str(back), back.errno, back.route) == ("boom", 7, "GET /r")


# -- on the wire (scripted stub server) -----------------------------------------------------------
@pytest.fixture
def server():
    with stub_server() as srv:
        yield srv


def make_transport(tmp_path: Path, *, max_retries: int = 3, read_timeout_s: float = 2.0):
    sleeps: list[float] = []
    limiter_sleeps: list[float] = []
    limiter = RateLimiter(tmp_path / "gcra", 1000.0, sleep=limiter_sleeps.append)
    transport = Transport(
        api_key=KEY,
        limiter=limiter,
        stats=Stats(),
        connect_timeout_s=1.0,
        read_timeout_s=read_timeout_s,
        max_retries=max_retries,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        sleep=sleeps.append,
        rng=random.Random(0),
    )
    return transport, sleeps, limiter_sleeps


def test_sends_apikey_header_and_returns_result(server: StubServer, tmp_path: Path) -> None:
    server.set_script([ok({"total": 0, "list": None}, dialect="code")])
    transport, _, _ = make_transport(tmp_path)
    assert transport.get(server.url + "/market", {"page": 1}) == {"total": 0, "list": None}
    assert server.seen[0].headers.get("apikey") == KEY
    assert KEY not in server.seen[0].path


def test_5xx_then_success_is_retried(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(503), Reply(500), ok({"x": 1})])
    transport, sleeps, _ = make_transport(tmp_path)
    assert transport.get(server.url + "/m") == {"x": 1}
    stats = transport.stats.snapshot()
    assert (stats["requests"], stats["retries"], stats["errors"]) == (3, 2, 0)
    assert len(sleeps) == 2 and all(0 <= s <= 0.05 for s in sleeps)


def test_persistent_5xx_gives_typed_error_after_all_attempts(
    server: StubServer, tmp_path: Path
) -> None:
    server.set_script([Reply(502)])
    transport, _, _ = make_transport(tmp_path, max_retries=2)
    with pytest.raises(errors.OpinionRetriesExhaustedError) as info:
        transport.get(server.url + "/market", {"page": 3})
    assert info.value.attempts == 3 and len(server.seen) == 3
    assert "after 3 attempts" in str(info.value) and "HTTP 502" in str(info.value)
    assert "/openapi/market?page=3" in str(info.value)
    assert transport.stats.snapshot()["errors"] == 1


def test_429_honours_retry_after_and_penalizes_limiter(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(429, headers={"Retry-After": "2"}), ok({"x": 1})])
    transport, sleeps, limiter_sleeps = make_transport(tmp_path)
    assert transport.get(server.url + "/m") == {"x": 1}
    assert sleeps == [2.0]  # Retry-After is the floor of the backoff
    # the shared limiter was pushed ~2 s ahead, so the retry waited on it too
    assert limiter_sleeps and limiter_sleeps[-1] == pytest.approx(2.0, abs=0.2)
    assert transport.stats.snapshot()["rate_limited"] == 1


def test_429_exhausted_is_rate_limited_error(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(429)])
    transport, _, _ = make_transport(tmp_path, max_retries=1)
    with pytest.raises(errors.OpinionRateLimitedError) as info:
        transport.get(server.url + "/m")
    assert info.value.attempts == 2


@pytest.mark.parametrize("status", [408, 425])
def test_408_425_are_retried(server: StubServer, tmp_path: Path, status: int) -> None:
    server.set_script([Reply(status), ok(1)])
    transport, _, _ = make_transport(tmp_path)
    assert transport.get(server.url + "/m") == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.OpinionBadRequestError),
        (404, errors.OpinionNotFoundError),
        (403, errors.OpinionHTTPError),
        (401, errors.OpinionAuthError),
    ],
)
def test_client_errors_are_not_retried(
    server: StubServer, tmp_path: Path, status: int, cls: type
) -> None:
    server.set_script([Reply(status, body={"errno": status, "errmsg": KEY})])
    transport, sleeps, _ = make_transport(tmp_path)
    with pytest.raises(cls) as info:
        transport.get(server.url + "/market/1")
    assert len(server.seen) == 1 and sleeps == []
    assert info.value.status == status
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    if status == 401:
        assert "refused" in str(info.value) and "OPINION_API_KEY" in str(info.value)


def test_errno_on_200_is_retried_then_application_error_with_key_scrubbed(
    server: StubServer, tmp_path: Path
) -> None:
    server.set_script([Reply(body={"errno": 10000, "errmsg": f"bad key {KEY}", "result": None})])
    transport, _, _ = make_transport(tmp_path, max_retries=2)
    with pytest.raises(errors.OpinionApplicationError) as info:
        transport.get(server.url + "/m")
    assert info.value.errno == 10000 and info.value.attempts == 3 and len(server.seen) == 3
    assert "venue errno 10000" in str(info.value)
    assert KEY not in str(info.value) and "***" in str(info.value)
    assert transport.stats.snapshot()["application_errors"] == 3


@pytest.mark.parametrize("dialect", ["errno", "code"])
def test_region_refusal_fails_at_once_naming_the_cause(
    server: StubServer, tmp_path: Path, dialect: str
) -> None:
    message = "msg" if dialect == "code" else "errmsg"
    server.set_script([Reply(body={dialect: 10403, message: "Invalid area", "result": None})])
    transport, sleeps, _ = make_transport(tmp_path, max_retries=3)
    with pytest.raises(errors.OpinionRegionRefusedError) as info:
        transport.get(server.url + "/m")
    assert len(server.seen) == 1 and sleeps == []  # never retried
    assert info.value.errno == 10403 and info.value.attempts == 1
    text = str(info.value)
    assert "Invalid area" in text and "region" in text and "Retrying will not help" in text
    assert transport.stats.snapshot()["retries"] == 0


def test_errno_then_success(server: StubServer, tmp_path: Path) -> None:
    busy = {"code": 10000, "msg": "system busy", "result": None}
    server.set_script([Reply(body=busy), ok({"fine": True})])
    transport, _, _ = make_transport(tmp_path)
    assert transport.get(server.url + "/m") == {"fine": True}


def test_truncated_body_is_retried(server: StubServer, tmp_path: Path) -> None:
    full = json.dumps({"errno": 0, "errmsg": "", "result": {"total": 5, "list": []}}).encode()
    server.set_script([Reply(body=full, cut_to=20), Reply(body=full[:30]), ok({"y": 2})])
    transport, _, _ = make_transport(tmp_path)
    assert transport.get(server.url + "/m") == {"y": 2}
    assert transport.stats.snapshot()["truncated"] == 2


def test_garbage_body_is_payload_error_not_retried(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(body="<html>oops</html>")])
    transport, _, _ = make_transport(tmp_path)
    with pytest.raises(errors.OpinionPayloadError) as info:
        transport.get(server.url + "/market")
    assert len(server.seen) == 1 and "/openapi/market" in str(info.value)


def test_dropped_connection_is_retried(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(drop=True), ok("fine")])
    transport, _, _ = make_transport(tmp_path)
    assert transport.get(server.url + "/m") == "fine"
    assert transport.stats.snapshot()["connection_errors"] == 1


def test_read_timeout_is_retried_then_typed(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(delay_s=0.6, body={"errno": 0, "result": 1})])
    transport, _, _ = make_transport(tmp_path, max_retries=1, read_timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(errors.OpinionTimeoutError) as info:
        transport.get(server.url + "/m")
    assert info.value.attempts == 2 and "timed out" in str(info.value)
    assert time.monotonic() - started < 2.0
    assert transport.stats.snapshot()["timeouts"] == 2


def test_huge_retry_after_gives_up_instead_of_sleeping(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(503, headers={"Retry-After": "3600"})])
    transport, sleeps, _ = make_transport(tmp_path)
    with pytest.raises(errors.OpinionRetriesExhaustedError) as info:
        transport.get(server.url + "/m")
    assert info.value.attempts == 1 and sleeps == []


def test_transport_repr_hides_key(tmp_path: Path) -> None:
    transport, _, _ = make_transport(tmp_path)
    assert KEY not in repr(transport)


def test_redirect_is_not_followed(server: StubServer, tmp_path: Path) -> None:
    server.set_script([Reply(301, headers={"Location": "http://127.0.0.1:9/elsewhere"})])
    transport, _, _ = make_transport(tmp_path)
    with pytest.raises(errors.OpinionHTTPError, match="OPINION_API_BASE_URL") as info:
        transport.get(server.url + "/m")
    assert info.value.status == 301 and len(server.seen) == 1
