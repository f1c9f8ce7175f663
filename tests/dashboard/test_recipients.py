"""What alert rules and subscriptions share: one check of addresses, language and rows."""

from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.records.alerts import AlertRule, AlertRuleError, _validated
from dashboard.records.recipients import (
    MAX_VALUES,
    checked_addresses,
    checked_lang,
    scope_columns,
    scope_fields,
)
from dashboard.records.subscriptions import Subscription, SubscriptionError

CREATED = datetime(2026, 11, 20, 9, 0)


def test_addresses_are_cleaned_and_checked() -> None:
    assert checked_addresses([" ana@example.com ", "", "ana@example.com", "luis@x.es"]) == (
        "ana@example.com",
        "luis@x.es",
    )
    with pytest.raises(SubscriptionError, match="'ana@example' is not an address"):
        checked_addresses(["ok@example.com", "ana@example"], SubscriptionError)
    with pytest.raises(AlertRuleError, match="language 'fr'"):
        checked_lang("fr", AlertRuleError)
    assert checked_lang("en") == "en"


def test_row_columns_are_stored_as_json_and_read_back() -> None:
    stored = scope_columns(["Compras", " Compras", "Logística"], ["Óptica Sur"], ["external"])
    assert stored == {
        "processes": '["Compras", "Logística"]',
        "customers": '["Óptica Sur"]',
        "customer_types": '["external"]',
    }

    class Row:
        processes, customers, customer_types = stored.values()

    assert scope_fields(Row()) == {
        "processes": ("Compras", "Logística"),
        "customers": ("Óptica Sur",),
        "customer_types": ("external",),
    }
    with pytest.raises(SubscriptionError, match="at most 50 stages"):
        scope_columns([f"s{i}" for i in range(MAX_VALUES + 1)], [], [], SubscriptionError)


def test_rules_and_subscriptions_refuse_the_same_customer_type() -> None:
    """A customer type outside internal/external is refused by both, with one message."""
    with pytest.raises(AlertRuleError, match="customer type 'partner' is not one of"):
        _validated("r", "at_risk", None, None, [], [], ["partner"], "es", ["a@b.es"], None)
    with pytest.raises(SubscriptionError, match="customer type 'partner' is not one of"):
        scope_columns([], [], ["partner"], SubscriptionError)


def test_scope_in_words_for_rules_and_subscriptions() -> None:
    sub = Subscription(1, "a@b.es", ("Compras",), (), ("external",), "es", 0, 8, (), True,
                       None, CREATED)  # fmt: skip
    rule = AlertRule(1, "r", None, "at_risk", None, (), (), (), "en", ("a@b.es",), None, True,
                     None, CREATED)  # fmt: skip
    assert sub.scope_words("es") == "etapas: Compras; tipo de cliente: external"
    assert sub.scope_words("en") == "stages: Compras; customer type: external"
    assert rule.scope_words("en") == "everything" and rule.scope_words("es") == "todo"
    assert rule.metric_filter(CREATED).processes == ()
    assert sub.metric_filter(CREATED).customer_types == ("external",)
