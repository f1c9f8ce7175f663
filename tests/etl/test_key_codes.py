"""validate.key_codes: one int64 per row, equal exactly when the rows are equal.

Checked against pandas' own multi-column `duplicated`/`groupby` (the independent method it
replaced), on hand-made rows and on generated ones with missing values of every type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.parse import TEXT
from etl.validate import key_codes


def test_equal_rows_share_a_code_and_missing_equals_missing() -> None:
    frame = pd.DataFrame(
        {
            "id": pd.array(["a", "a", "b", None, None, "a"], dtype=TEXT),
            "at": pd.to_datetime(
                pd.Series(["2026-01-01", "2026-01-01", "2026-01-01", None, None, "2026-01-02"])
            ),
            "seq": pd.array([1, 1, 1, None, None, 1], dtype="Int64"),
        }
    )
    codes = key_codes(frame)
    assert codes.dtype == np.int64
    assert codes[0] == codes[1]  # identical rows
    assert codes[3] == codes[4]  # all-missing rows are one key
    assert len({codes[0], codes[2], codes[3], codes[5]}) == 4


texts = st.one_of(st.none(), st.sampled_from(["", "a", "b", "á", "a b"]))
ints = st.one_of(st.none(), st.integers(-3, 3))
days = st.one_of(st.none(), st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(texts, ints, days, texts), max_size=40))
def test_codes_partition_rows_like_pandas(rows: list[tuple]) -> None:
    frame = pd.DataFrame(
        {
            "a": pd.array([r[0] for r in rows], dtype=TEXT),
            "n": pd.array([r[1] for r in rows], dtype="Int64"),
            "t": pd.to_datetime(
                pd.Series(
                    [
                        None
                        if r[2] is None
                        else pd.Timestamp("2026-03-01") + pd.Timedelta(days=r[2])
                        for r in rows
                    ]
                )
            ),
            "b": pd.array([r[3] for r in rows], dtype=TEXT),
        }
    )
    codes = key_codes(frame)
    assert len(codes) == len(frame)
    expected = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    # same partition: code i == code j exactly when pandas puts rows i and j in one group
    assert np.array_equal(codes[:, None] == codes[None, :], expected[:, None] == expected[None, :])
    assert np.array_equal(pd.Series(codes).duplicated().to_numpy(), frame.duplicated().to_numpy())


@settings(max_examples=200)
@given(st.lists(st.integers(-3, 6), max_size=60))
def test_repeats_and_first_occurrences_match_pandas(values: list[int]) -> None:
    from etl.validate import _first_occurrences, _repeated

    codes = np.array(values, dtype=np.int64)
    series = pd.Series(codes)
    assert _repeated(codes).tolist() == series.duplicated(keep=False).tolist()
    first = _first_occurrences(codes)
    assert (first != np.arange(len(codes))).tolist() == series.duplicated(keep="first").tolist()
    expected_first = pd.Series(np.arange(len(codes))).groupby(codes).transform("first")
    assert first.tolist() == expected_first.tolist()


def test_repeats_and_first_occurrences_by_hand() -> None:
    from etl.validate import _first_occurrences, _repeated

    codes = np.array([7, 3, 7, 7, 3, 9], dtype=np.int64)
    assert _repeated(codes).tolist() == [True, True, True, True, True, False]
    assert _first_occurrences(codes).tolist() == [0, 1, 0, 0, 1, 5]
