"""The tunables resource keeps no defaults of its own: config.py holds the one copy."""

from __future__ import annotations

import pytest

from opinion_pipeline.config import Settings, load_settings
from opinion_pipeline.resources.tunables import RESERVED_FOR, PipelineTunables


@pytest.mark.unit
def test_every_same_named_tunable_defaults_to_its_setting():
    # from_settings derives them (effective_mode, archive_root, the alert threshold's fallback)
    derived = {"mode", "archive_dir", "alert_trade_usd"}
    shared = set(PipelineTunables.model_fields) & set(Settings.model_fields) - derived
    assert len(shared) >= 15
    for name in shared:
        expected = Settings.model_fields[name].default
        assert PipelineTunables.model_fields[name].default == expected, name
    reserved = sum(
        Settings.model_fields[f"reserve_{use}_per_minute"].default for use in RESERVED_FOR
    )
    assert PipelineTunables.model_fields["reserved_per_minute"].default == reserved


@pytest.mark.unit
def test_from_settings_takes_the_environment(monkeypatch):
    monkeypatch.setenv("OPINION_SYNC_WORKERS", "7")
    monkeypatch.setenv("OPINION_RESERVE_DISCOVERY_PER_MINUTE", "5")
    tunables = PipelineTunables.from_settings(load_settings())
    assert tunables.sync_workers == 7
    assert tunables.reserved_per_minute == 20 + 5 + 20
