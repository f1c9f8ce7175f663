"""Pages that must not contradict themselves (issue 14, items 8-17), page by page in
AppTest; the browser-only faults (glyph boxes, contrast, mixed languages) are in
test_browser.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import t
from tests.dashboard.conftest import make_app


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_language_switch_sends_the_sidebar_choices_in_the_new_labels(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """The browser keeps a selectbox choice as its label: unless the server re-sends the
    value on a switch, the old label matches no option and the period falls back to the
    first one (a second switch turned ?period=26w into four weeks)."""
    at = _run(make_app(monkeypatch, sample_db_url, period="26w", dir="from_customer"))
    for lang in ("en", "es", "en"):
        at.segmented_control(key="w_lang").set_value(lang)
        _run(at)
        period = at.selectbox(key="w_period")
        assert period.proto.set_value and period.proto.raw_value == t("period_26w", lang)
        direction = at.radio(key="w_dir")
        assert direction.proto.set_value
        assert direction.proto.raw_value == t("direction_from_customer", lang)
        assert at.query_params.get("period") == "26w"
    # a run without a switch sends nothing (the browser's own value stands)
    _run(at)
    assert not at.selectbox(key="w_period").proto.set_value
