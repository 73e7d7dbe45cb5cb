"""The UI tests share one deployment (see ui_fixtures) and one browser (see browser)."""

from opinion_pipeline_tests.ui.browser import browser, screenshots  # noqa: F401
from opinion_pipeline_tests.ui.ui_fixtures import (  # noqa: F401
    dagster_ui,
    ui_simulator,
    ui_with_data,
)
