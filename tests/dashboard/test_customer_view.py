"""The customer view through Streamlit's AppTest: one customer's rows, nothing else; any
bad link gets the polite refusal and no data at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access.secret_keys import new_secret
from dashboard.services.tokens import make_token
from tests.dashboard.apptest_support import world_db
from tests.dashboard.world import ACME_IDS, OTHER_IDS

SECRET = new_secret()
REFUSAL = "no es válido o ha caducado"


def _customer_script() -> None:
    from dashboard.views import cliente

    cliente.page()


@pytest.fixture
def world_url(tmp_path: Path) -> str:
    return world_db(tmp_path)


def _run(monkeypatch: pytest.MonkeyPatch, url: str, token: str | None, **query: str) -> AppTest:
    monkeypatch.setenv("ESLABON_DB_URL", url)
    monkeypatch.setenv("ESLABON_SECRET", SECRET)
    at = AppTest.from_function(_customer_script, default_timeout=60)
    if token is not None:
        at.query_params["token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _everything(at: AppTest) -> str:
    """All text and every table cell AppTest can see, plus selectbox options."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "error",
                 "warning", "success", "text", "code"):  # fmt: skip
        parts.extend(str(e.value) for e in getattr(at, kind))
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    for box in at.selectbox:
        parts.extend(str(o) for o in box.options)
    return "\n".join(parts)


def test_link_shows_only_its_customer(monkeypatch: pytest.MonkeyPatch, world_url: str) -> None:
    at = _run(monkeypatch, world_url, make_token("Acme", SECRET))
    assert not at.exception
    shown = _everything(at)
    for cid in ACME_IDS | {"P1"}:
        assert cid in shown
    for cid in OTHER_IDS - {"P1"}:
        assert cid not in shown, cid
    for internal in ("Globex", "Planta", "Ana", "Luis", "Marta", "Ruth", "Anulado"):
        assert internal not in shown, internal
    assert len(at.sidebar) == 0  # no sidebar, no navigation
    ours = at.dataframe[0].value
    assert set(ours.iloc[:, 0]) == {"D1", "D2", "P1"}
    theirs = at.dataframe[1].value
    assert list(theirs.iloc[:, 0]) == ["F1"]
    # D1 is at risk: predicted 27/11/2026 18:00
    d1 = ours[ours.iloc[:, 0] == "D1"].iloc[0]
    assert d1.iloc[-1] == "27/11/2026 18:00"


def test_detail_of_an_own_commitment_hides_internals(
    monkeypatch: pytest.MonkeyPatch, world_url: str
) -> None:
    at = _run(monkeypatch, world_url, make_token("Acme", SECRET), lang="en")
    at.selectbox(key="cust_pick").set_value("D2").run()
    shown = _everything(at)
    assert "Delay at an earlier stage" in shown and "Compras" in shown
    assert "U2" not in shown and "Ruth" not in shown and "Planta" not in shown


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "garbage",
        make_token("Acme", new_secret()),
        make_token("Acme", SECRET, days=1, now=datetime.now(UTC) - timedelta(days=2)),
    ],
    ids=["missing", "empty", "garbage", "wrong-secret", "expired"],
)
def test_bad_links_get_the_refusal_and_no_data(
    monkeypatch: pytest.MonkeyPatch, world_url: str, token: str | None
) -> None:
    at = _run(monkeypatch, world_url, token)
    assert not at.exception
    shown = _everything(at)
    assert REFUSAL in shown
    assert not at.dataframe
    for cid in ACME_IDS | OTHER_IDS:
        assert cid not in shown


def test_altered_customer_in_a_valid_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, world_url: str
) -> None:
    import base64
    import json

    token = make_token("Acme", SECRET)
    body, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["c"] = "Globex"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    at = _run(monkeypatch, world_url, f"{forged}.{sig}")
    shown = _everything(at)
    assert REFUSAL in shown and "G1" not in shown and "Globex" not in shown


def test_no_secret_configured_refuses(monkeypatch: pytest.MonkeyPatch, world_url: str) -> None:
    token = make_token("Acme", SECRET)
    monkeypatch.setattr("dashboard.services.tokens.SECRETS_FILE", Path("/nonexistent/secrets.toml"))
    monkeypatch.setenv("ESLABON_DB_URL", world_url)
    monkeypatch.setenv("ESLABON_SECRET", "")
    at = AppTest.from_function(_customer_script, default_timeout=60)
    at.query_params["token"] = token
    at.run()
    assert REFUSAL in _everything(at) and not at.dataframe


def test_real_app_with_a_token_shows_only_the_customer_view(
    monkeypatch: pytest.MonkeyPatch, world_url: str
) -> None:
    """Through dashboard/app.py: no navigation, no sidebar, no other page's content."""
    from etl.settings import PROJECT_ROOT

    monkeypatch.setenv("ESLABON_DB_URL", world_url)
    monkeypatch.setenv("ESLABON_SECRET", SECRET)
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["token"] = make_token("Acme", SECRET)
    at.query_params["page"] = "resumen"  # asking for another page changes nothing
    at.run()
    assert not at.exception
    assert len(at.sidebar) == 0
    shown = _everything(at)
    assert "Sus compromisos con nosotros" in shown
    assert all(cid in shown for cid in ACME_IDS)
    for cid in OTHER_IDS - {"P1"}:
        assert cid not in shown, cid
    assert "Globex" not in shown and "Filtros" not in shown

    at.query_params["token"] = "tampered.token"
    at.run()
    assert REFUSAL in _everything(at) and not at.dataframe and len(at.sidebar) == 0
