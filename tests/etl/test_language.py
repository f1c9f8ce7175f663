"""The one rule that picks a text from a (Spanish, English) pair."""

from __future__ import annotations

from etl.language import in_language, norm_lang


def test_english_only_when_asked_spanish_otherwise() -> None:
    pair = ("Quiebre", "Breach")
    assert in_language(pair, "en") == "Breach"
    for lang in ("es", "EN", "fr", "", None):
        assert in_language(pair, lang) == "Quiebre"
    assert norm_lang("en") == "en" and norm_lang("de") == "es" and norm_lang(None) == "es"
