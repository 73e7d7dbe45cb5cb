"""A tiny code location for the daemon tests, served by a real ``dagster api grpc`` process.

It carries the project's own alert sensors (built by the same factories, with a one-second
interval so tests need not wait 30 s), a job whose run can be made to hang, and an asset with a
one-minute freshness policy. ``alerts_nap`` writes its process id so a test can SIGKILL the run
worker; the job runs in process (as the project's jobs do), so that pid *is* the run worker.
"""

import os
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg

from opinion_pipeline.automation.sensors import (
    build_freshness_alert_sensor,
    build_run_failure_alert_sensor,
)

PID_DIR_ENV = "ALERTS_TEST_PID_DIR"
NAP_JOB = "alerts_nap_job"
WATCHED_ASSET = "alerts_watched"
LOCATION = "alerts_ops"


class NapConfig(dg.Config):
    seconds: float = 0.0


@dg.asset(name="alerts_nap")
def alerts_nap(context: dg.AssetExecutionContext, config: NapConfig) -> None:
    pid_dir = os.environ.get(PID_DIR_ENV)
    if pid_dir:
        Path(pid_dir, f"{context.run_id}.pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + config.seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)


@dg.asset(
    name=WATCHED_ASSET,
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=1)),
)
def alerts_watched() -> None:
    return None


nap_job = dg.define_asset_job(
    NAP_JOB,
    selection=[alerts_nap],
    # The same per-job limit as production: a crashed run that stayed "started" would block
    # every later run of the job.
    tags={"opinion/job": NAP_JOB},
)

defs = dg.Definitions(
    assets=[alerts_nap, alerts_watched],
    jobs=[nap_job],
    sensors=[
        build_run_failure_alert_sensor(minimum_interval_seconds=1),
        build_freshness_alert_sensor(minimum_interval_seconds=1),
    ],
    executor=dg.in_process_executor,
)
