"""Without Chromium the browser tests skip and say how to install it, except in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from opinion_pipeline_tests.ui import browser


def test_missing_browser_skips_with_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        browser.require_browser()
    assert "/nonexistent/chromium" in str(skipped.value)
    assert "apt-get install chromium chromium-driver" in str(skipped.value)


def test_missing_browser_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMEDRIVER", Path("/nonexistent/chromedriver"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="/nonexistent/chromedriver"):
        browser.require_browser()
