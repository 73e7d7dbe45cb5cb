"""What the UI does, through Dagster's GraphQL API: the same endpoint and calls the pages use.

``DagsterGraphQLClient`` covers launching a job and reading a run's status; everything else
(lineage, schedules, re-execution, metadata, checks) is a raw query to the same ``/graphql``.
"""

from __future__ import annotations

from typing import Any

import requests
from dagster_graphql import DagsterGraphQLClient

REPOSITORY = "__repository__"  # the repository a Definitions object becomes

LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus } } } }
"""

DAEMONS = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"

ASSET_NODES = """
{ assetNodes {
    assetKey { path } dependencyKeys { path } dependedByKeys { path }
    description groupName kinds
    owners { __typename ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    metadataEntries {
      __typename label
      ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
    }
} }
"""

SCHEDULES = """
query Schedules($repo: RepositorySelector!) {
  schedulesOrError(repositorySelector: $repo) {
    __typename
    ... on Schedules { results { name cronSchedule scheduleState { id status } } }
    ... on PythonError { message }
  }
}
"""

STOP_SCHEDULE = """
mutation Stop($id: String!) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}
"""

START_SCHEDULE = """
mutation Start($selector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}
"""

REEXECUTE = """
mutation Reexecute($params: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId parentRunId rootRunId status } }
    ... on PythonError { message }
    ... on RunConflict { message }
    ... on InvalidStepError { invalidStepKey }
  }
}
"""

MATERIALIZE = """
mutation Materialize($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId jobName status parentRunId rootRunId
                 tags { key value } stepKeysToExecute }
  }
}
"""

RUN_FAILURE = """
query Failure($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection { events {
      __typename
      ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } }
      ... on RunFailureEvent { message }
    } }
  }
}
"""

RUNS = "{ runsOrError(limit: 20) { ... on Runs { results { runId jobName status } } } }"

MATERIALIZATIONS = """
query Materializations($key: AssetKeyInput!, $limit: Int) {
  assetNodes(assetKeys: [$key]) {
    assetMaterializations(limit: $limit) {
      runId timestamp
      metadataEntries {
        __typename label
        ... on IntMetadataEntry { intValue }
        ... on FloatMetadataEntry { floatValue }
        ... on MarkdownMetadataEntry { mdStr }
      }
    }
  }
}
"""

CHECK_EXECUTIONS = """
query Checks($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 20) {
    runId status
    evaluation { success severity metadataEntries { __typename label } }
  }
}
"""


class GraphQLError(AssertionError):
    """The endpoint answered with errors (a test failure, with the server's message)."""


class UIClient:
    """The Dagster GraphQL client plus raw queries to the same endpoint."""

    def __init__(self, host: str, port: int) -> None:
        self.endpoint = f"http://{host}:{port}/graphql"
        self.client = DagsterGraphQLClient(host, port_number=port, timeout=60)
        self._location: str | None = None

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            self.endpoint, json={"query": text, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise GraphQLError("; ".join(error.get("message", "") for error in body["errors"]))
        return body["data"]

    # ---------------------------------------------------------------- workspace

    def location_loaded(self) -> bool:
        try:
            data = self.query(LOCATIONS)
        except (requests.RequestException, GraphQLError):
            return False
        entries = data["workspaceOrError"].get("locationEntries") or []
        loaded = [entry["name"] for entry in entries if entry["loadStatus"] == "LOADED"]
        if loaded:
            self._location = loaded[0]
        return bool(loaded)

    @property
    def location(self) -> str:
        if self._location is None and not self.location_loaded():
            raise GraphQLError("no code location loaded")
        assert self._location is not None
        return self._location

    def repository(self) -> dict[str, str]:
        return {"repositoryLocationName": self.location, "repositoryName": REPOSITORY}

    def daemon_health(self) -> dict[str, bool]:
        try:
            data = self.query(DAEMONS)
        except (requests.RequestException, GraphQLError):
            return {}
        statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
        return {s["daemonType"]: s["healthy"] for s in statuses if s["required"]}

    # ------------------------------------------------------------------- assets

    def asset_nodes(self) -> dict[str, dict[str, Any]]:
        nodes = self.query(ASSET_NODES)["assetNodes"]
        return {"/".join(node["assetKey"]["path"]): node for node in nodes}

    def lineage_edges(self) -> set[tuple[str, str]]:
        """(upstream, downstream) pairs, as the lineage graph draws them."""
        return {
            ("/".join(dep["path"]), name)
            for name, node in self.asset_nodes().items()
            for dep in node["dependencyKeys"]
        }

    def materializations(self, asset: str, limit: int = 5) -> list[dict[str, Any]]:
        nodes = self.query(MATERIALIZATIONS, {"key": {"path": [asset]}, "limit": limit})
        return nodes["assetNodes"][0]["assetMaterializations"] if nodes["assetNodes"] else []

    def latest_materialization(self, asset: str) -> dict[str, Any] | None:
        found = self.materializations(asset, limit=1)
        return found[0] if found else None

    def check_executions(self, asset: str, check: str) -> list[dict[str, Any]]:
        variables = {"key": {"path": [asset]}, "check": check}
        return self.query(CHECK_EXECUTIONS, variables)["assetCheckExecutions"]

    # ---------------------------------------------------------------- schedules

    def schedules(self) -> dict[str, dict[str, Any]]:
        result = self.query(SCHEDULES, {"repo": self.repository()})["schedulesOrError"]
        if result["__typename"] != "Schedules":
            raise GraphQLError(f"schedules: {result}")
        return {schedule["name"]: schedule for schedule in result["results"]}

    def schedule_status(self, name: str) -> str:
        return self.schedules()[name]["scheduleState"]["status"]

    def stop_schedule(self, name: str) -> str:
        state_id = self.schedules()[name]["scheduleState"]["id"]
        result = self.query(STOP_SCHEDULE, {"id": state_id})["stopRunningSchedule"]
        if result["__typename"] != "ScheduleStateResult":
            raise GraphQLError(f"stopRunningSchedule {name}: {result}")
        return result["scheduleState"]["status"]

    def start_schedule(self, name: str) -> str:
        selector = {**self.repository(), "scheduleName": name}
        result = self.query(START_SCHEDULE, {"selector": selector})["startSchedule"]
        if result["__typename"] != "ScheduleStateResult":
            raise GraphQLError(f"startSchedule {name}: {result}")
        return result["scheduleState"]["status"]

    # --------------------------------------------------------------------- runs

    def launch_job(self, job_name: str) -> str:
        return self.client.submit_job_execution(
            job_name, repository_location_name=self.location, repository_name=REPOSITORY
        )

    def materialize(self, *assets: str) -> str:
        """What the UI's "Materialize" button launches: ``__ASSET_JOB`` over the assets."""
        selector = {
            "repositoryLocationName": self.location,
            "repositoryName": REPOSITORY,
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": [asset]} for asset in assets],
        }
        params = {"selector": selector, "runConfigData": {}, "mode": "default"}
        result = self.query(MATERIALIZE, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise GraphQLError(f"launchRun __ASSET_JOB {assets}: {result}")
        return result["run"]["runId"]

    def run_status(self, run_id: str) -> str:
        return self.client.get_run_status(run_id).value

    def run(self, run_id: str) -> dict[str, Any]:
        return self.query(RUN, {"runId": run_id})["runOrError"]

    def runs(self) -> list[tuple[str, str, str]]:
        results = self.query(RUNS)["runsOrError"]["results"]
        return [(run["runId"][:8], run["jobName"], run["status"]) for run in results]

    def failure_messages(self, run_id: str) -> list[str]:
        """Every step-failure and run-failure message of a run, causes included."""
        events = self.query(RUN_FAILURE, {"runId": run_id})["logsForRun"]["events"]
        messages = []
        for event in events:
            if event["__typename"] == "ExecutionStepFailureEvent" and event["error"]:
                messages.append(event["error"]["message"])
                messages.extend(cause["message"] for cause in event["error"]["causes"])
            elif event["__typename"] == "RunFailureEvent":
                messages.append(event["message"])
        return messages

    def reexecute(self, run_id: str, strategy: str = "FROM_FAILURE") -> dict[str, Any]:
        params = {"parentRunId": run_id, "strategy": strategy}
        result = self.query(REEXECUTE, {"params": params})["launchRunReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise GraphQLError(f"launchRunReexecution: {result}")
        return result["run"]
