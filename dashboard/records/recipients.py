"""What alert rules and subscriptions both record: who hears (e-mail addresses, in which
language) and about which rows (stages, customers, customer types: MetricFilter's own
fields). One set of checks and one way of storing them, so an address or a customer type
accepted by one is accepted by the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from dashboard.metrics.filters import MetricFilter
from dashboard.records import RecordError
from etl.language import in_language
from etl.schema import CUSTOMER_TYPES as CUSTOMER_TYPES
from etl.schema import LANGUAGES

LANGS = LANGUAGES  # under the name its callers use

# A practical address check (one @, a dot in the domain, no spaces or header breaks):
# the SMTP server has the last word, but a typo should be caught when it is typed.
EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
MAX_VALUES = 50


def clean_values(
    values: Sequence[str], what: str, error: type[RecordError] = RecordError
) -> tuple[str, ...]:
    """Values trimmed, blanks and repeats dropped (first order kept); at most MAX_VALUES."""
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(cleaned) > MAX_VALUES:
        raise error(f"at most {MAX_VALUES} {what} per subscription")
    return cleaned


def checked_addresses(
    emails: Sequence[str], error: type[RecordError] = RecordError
) -> tuple[str, ...]:
    """The addresses cleaned; `error` names the first one that does not look like one."""
    addresses = clean_values(emails, "addresses", error)
    bad = [e for e in addresses if not EMAIL_PATTERN.match(e)]
    if bad:
        raise error(f"e-mail {bad[0]!r} is not an address like name@example.com")
    return addresses


def checked_lang(lang: str, error: type[RecordError] = RecordError) -> str:
    """`lang` when it is one of LANGS; `error` otherwise."""
    if lang not in LANGS:
        raise error(f"language {lang!r} is not one of {', '.join(LANGS)}")
    return lang


def scope_columns(
    processes: Sequence[str],
    customers: Sequence[str],
    customer_types: Sequence[str],
    error: type[RecordError] = RecordError,
) -> dict[str, str]:
    """The three row columns as stored (JSON lists), checked and cleaned."""
    types = clean_values(customer_types, "customer types", error)
    bad = [t for t in types if t not in CUSTOMER_TYPES]
    if bad:
        raise error(f"customer type {bad[0]!r} is not one of {', '.join(CUSTOMER_TYPES)}")
    return {
        "processes": json.dumps(list(clean_values(processes, "stages", error)), ensure_ascii=False),
        "customers": json.dumps(
            list(clean_values(customers, "customers", error)), ensure_ascii=False
        ),
        "customer_types": json.dumps(list(types)),
    }


def scope_fields(row: Mapping[str, str] | object) -> dict[str, tuple[str, ...]]:
    """The three row columns of a stored rule or subscription, back as tuples."""
    return {
        name: tuple(json.loads(getattr(row, name)))
        for name in ("processes", "customers", "customer_types")
    }


class RecipientScope:
    """The rows a recipient may hear about (a rule's or subscription's own fields)."""

    processes: tuple[str, ...]
    customers: tuple[str, ...]
    customer_types: tuple[str, ...]
    created_at: datetime

    def metric_filter(self, as_of: datetime) -> MetricFilter:
        """The rows the recipient's messages may hold."""
        return MetricFilter(
            as_of=as_of,
            processes=self.processes,
            customers=self.customers,
            customer_types=self.customer_types,
        )

    def scope_words(self, lang: str) -> str:
        """Those rows in words (`MetricFilter.describe` without its date), or "everything"."""
        words = self.metric_filter(self.created_at).describe(lang).rpartition("; ")[0]
        return words or in_language(("todo", "everything"), lang)
