"""The HTTP layer: auth, rate limit and faults around the API routes, plus the /_sim routes.

stdlib ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive and Nagle off serves well over the
~100 requests/second the benchmarks need on loopback. Nothing here logs requests, and the API
key is only ever compared, never written anywhere.
"""

from __future__ import annotations

import hmac
import json
import socket
import sys
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opinion_pipeline.simulator.api import ApiError, answer, match_route
from opinion_pipeline.simulator.control import handle_control
from opinion_pipeline.simulator.faults import FaultSettings, envelope
from opinion_pipeline.simulator.proxies import show_proxies
from opinion_pipeline.simulator.simulation import Simulation
from opinion_pipeline.simulator.util import fingerprint

ERROR_MESSAGES = {500: "internal server error", 502: "bad gateway", 503: "service unavailable"}
WEBAPP_PREFIX = "/api/bsc/api/v2/"  # the UNOFFICIAL web-app routes (leaderboard, holders)
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Opinion</title></head><body></body></html>"


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, simulation: Simulation) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.simulation = simulation
        super().__init__((host, port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are normal under faults; anything else is noted."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SimulatorServer
    server_version = "OpinionSimulator/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines are not logged: they cost time and tell nothing the counters don't."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        body = self._read_body()
        if parts.path == "/_sim" or parts.path.startswith("/_sim/"):
            sim = self.server.simulation
            self._send_json(*handle_control(sim, method, parts.path, query, body))
        elif parts.path.startswith(("/openapi", WEBAPP_PREFIX)):
            if method != "GET":
                self._send_json(405, envelope("errno", 405, "method not allowed", None))
            else:
                self._api(parts.path, query)
        else:
            self._send_json(404, {"error": "not found"})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(
        self, status: int, payload: Any, *, headers: dict[str, str] | None = None, cut: bool = False
    ) -> None:
        """Send ``payload``; with ``cut`` announce the full length but send only part of it."""
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if cut:  # no "Connection: close" warning: the client learns only from the short body
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data[: max(1, len(data) // 2)] if cut else data)

    def _api(self, path: str, query: dict[str, list[str]]) -> None:
        sim = self.server.simulation
        route, params = match_route(path)
        key = self.headers.get("apikey")
        key_id = fingerprint(key)

        def count(field: str, amount: int = 1) -> None:
            sim.counters.add(key_id, route, field, amount)

        def fail(status: int, message: str, headers: dict[str, str] | None = None) -> None:
            style = sim.faults.envelope_style()
            self._send_json(status, envelope(style, status, message, None), headers=headers)

        count("requests")
        if not key or not hmac.compare_digest(key.encode(), sim.api_key.encode()):
            count("unauthorized")
            return fail(401, "missing or invalid apikey")
        limited = not sim.limiter.allow(key)
        if limited or sim.faults.take_burst():
            count("rate_limited")  # every 429 sent; burst_429 counts those the fault caused
            if not limited:
                count("burst_429")
            return fail(429, "too many requests", {"Retry-After": "1"})
        if path.startswith(WEBAPP_PREFIX) and self._unofficial_fault(count):
            return None
        plan = sim.faults.plan()
        if plan.settings.refuse_region:  # as the venue answers some regions (US IP addresses)
            count("region_refused")
            style = sim.faults.envelope_style()
            self._send_json(200, envelope(style, 10403, "Invalid area", None))
            return None
        if plan.delay > 0:
            time.sleep(plan.delay)
        if plan.drop:
            count("dropped")
            self.close_connection = True
            return None
        if plan.error_status:
            count("server_errors")
            return fail(plan.error_status, ERROR_MESSAGES[plan.error_status])
        if plan.errno:
            count("errno_errors")
            style = sim.faults.envelope_style()
            self._send_json(200, envelope(style, 10000, "system busy, please retry later", None))
            return None
        try:
            result = answer(sim.world, route, params, query)
        except ApiError as error:
            count("not_found" if error.status == 404 else "bad_request")
            return fail(error.status, error.message)
        except Exception:  # a simulator bug: answer like a server would, and say where
            count("server_errors")
            sim.note("internal error:\n" + traceback.format_exc())
            return fail(500, ERROR_MESSAGES[500])
        payload = self._shaped(result.result, result.rows, plan.settings, count)
        style = sim.faults.envelope_style()
        if plan.truncate:
            count("truncated")
        else:
            count("ok")
        self._send_json(200, envelope(style, 0, "success", payload), cut=plan.truncate)
        return None

    def _unofficial_fault(self, count: Callable[[str, int], None]) -> bool:
        """The web-app routes vanished (404) or answer the web app's HTML: True if answered."""
        state = self.server.simulation.faults.get().get("unofficial_routes", "up")
        if state == "up":
            return False
        if state == "gone":
            count("not_found", 1)
            self._send_json(404, {"error": "not found"})
            return True
        count("ok", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HTML_PAGE)))
        self.end_headers()
        self.wfile.write(HTML_PAGE)
        return True

    def _shaped(
        self,
        result: dict[str, Any],
        rows_kind: str | None,
        settings: FaultSettings,
        count: Callable[[str, int], None],
    ) -> dict[str, Any]:
        """Apply the row-level faults to a list result."""
        if rows_kind is None:
            return result
        faults = self.server.simulation.faults
        rows = result["list"]
        if rows_kind in ("leaderboard", "holder") and settings.safe_proxy_rate:
            world = self.server.simulation.world
            show_proxies(rows, world.seed, world.by_address, settings.safe_proxy_rate)
        corrupted = faults.corrupt(rows, rows_kind, settings.malformed_rate)
        if corrupted:
            count("malformed_rows", corrupted)
        if rows_kind == "trade":
            faults.shape_trades(rows, settings)
        if not rows and settings.null_empty_list:
            result = {**result, "list": None}
            if "total" in result:
                result["total"] = 0
        return result
