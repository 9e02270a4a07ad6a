"""IAAC: the IJCAI-18 train file parsed, the fixture in its layout, the day split, bad files."""

from __future__ import annotations

from datetime import timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from apg.data.iaac import (CANONICAL_COLUMNS, COLUMNS, EXPECTED_ROWS, TRAIN_FILE, day_split,
                           load_iaac)
from apg.data.iaac_fixture import write_iaac_fixture
from apg.data.sources import DataError

HEADER = ("instance_id item_id item_category_list item_property_list item_brand_id item_city_id "
          "item_price_level item_sales_level item_collected_level item_pv_level user_id "
          "user_gender_id user_age_level user_occupation_id user_star_level context_id "
          "context_timestamp context_page_id predict_category_property shop_id "
          "shop_review_num_level shop_review_positive_rate shop_star_level shop_score_service "
          "shop_score_delivery shop_score_description is_trade")

# Five instances written out by hand (lines 2..6 of the file). Timestamps in China time:
# 2018-09-18 23:59:59, 09-19 00:00:00, 09-24 08:00:30, 09-18 03:25:45, 09-23 13:00:00.
ROWS = [
    "108641074714126964 3412720377098676069 6103875520393822671;2436715285093487584 "
    "5131280576272319091;2072967855524022579;5131280576272319091 1975590437749032870 "
    "3948283326616421003 3 3 4 14 24163 1 1004 2002 3006 282924576738839389 1537286399 4006 "
    "2436715285093487584:2072967855524022579,5131280576272319091;913420765812346570:-1 "
    "6765930309048922341 4 0.977931 5002 1.0 0.57 0.999 0",

    "5754713551599725161 987654321 6103875520393822671;913420765812346570;22750941316589204 -1 "
    "-1 -1 0 -1 0 0 7766 -1 -1 -1 -1 4007979028023783431 1537286400 4001 -1 4 0 -1 -1 -1 0 -1 "
    "1",

    "842679481291040981 3412720377098676069 6103875520393822671;2436715285093487584 "
    "99887766554433 1975590437749032870 3948283326616421003 3 3 4 14 24163 1 1004 2002 3006 1 "
    "1537747230 4020 913420765812346570:99887766554433;2436715285093487584:-1;"
    "913420765812346570:7258015885215591045 6765930309048922341 4 0.977931 5002 1.0 0.57 0.999 "
    "1",

    "2 1 6103875520393822671 7258015885215591045 7 8 10 17 17 21 1 0 1007 2005 3010 3 "
    "1537212345 4004 6103875520393822671:-1 9 25 1 5020 0.5 0.29 0.949999 0",

    "3 987654321 6103875520393822671;913420765812346570;22750941316589204 "
    "5131280576272319091;-1 -1 -1 0 -1 0 0 7766 -1 -1 -1 -1 4 1537678800 4010 "
    "22750941316589204:-1;-1 4 0 0.0 -1 -1 1 0.96 0",
]

ITEM_1 = ["3412720377098676069", "1975590437749032870", "3948283326616421003", "3", "3", "4",
          "14"]
ITEM_2 = ["987654321", "-1", "-1", "0", "-1", "0", "0"]
USER_1 = ["24163", "1", "1004", "2002", "3006"]
USER_2 = ["7766", "-1", "-1", "-1", "-1"]
SINGLE = ["item_id", "item_brand_id", "item_city_id", "item_price_level", "item_sales_level",
          "item_collected_level", "item_pv_level", "user_id", "user_gender_id", "user_age_level",
          "user_occupation_id", "user_star_level", "context_page_id", "shop_id",
          "shop_review_num_level", "shop_star_level"]
ROOT, CAT_A, CAT_B, CAT_C = ("6103875520393822671", "2436715285093487584", "913420765812346570",
                             "22750941316589204")
P1, P2, P3, P4 = ("2072967855524022579", "5131280576272319091", "99887766554433",
                  "7258015885215591045")


def expected_table() -> pd.DataFrame:
    """The canonical table of ROWS, computed by hand."""
    single = [ITEM_1 + USER_1 + ["4006", "6765930309048922341", "4", "5002"],
              ITEM_2 + USER_2 + ["4001", "4", "0", "-1"],
              ITEM_1 + USER_1 + ["4020", "6765930309048922341", "4", "5002"],
              ["1", "7", "8", "10", "17", "17", "21", "1", "0", "1007", "2005", "3010", "4004",
               "9", "25", "5020"],
              ITEM_2 + USER_2 + ["4010", "4", "0", "-1"]]
    table = pd.DataFrame(single, columns=SINGLE).astype("str")
    strings = {
        "hour": ["23", "00", "08", "03", "13"],
        # floor(value * 100) / 100: 0.57 and 0.29 must not fall into 0.56 and 0.28
        "shop_review_positive_rate": ["0.97", "-1", "0.97", "1.00", "0.00"],
        "shop_score_service": ["1.00", "-1", "1.00", "0.50", "-1"],
        "shop_score_delivery": ["0.57", "0.00", "0.57", "0.29", "1.00"],
        "shop_score_description": ["0.99", "-1", "0.99", "0.94", "0.96"],
        # unique, sorted as strings ("22..." < "61..." < "91..."), "-1" dropped
        "item_category_list": [f"{CAT_A}|{ROOT}", f"{CAT_C}|{ROOT}|{CAT_B}", f"{CAT_A}|{ROOT}",
                               ROOT, f"{CAT_C}|{ROOT}|{CAT_B}"],
        "item_property_list": [f"{P1}|{P2}", "", P3, P4, P2],
        "predict_category": [f"{CAT_A}|{CAT_B}", "", f"{CAT_A}|{CAT_B}", ROOT, CAT_C],
    }
    for name, values in strings.items():
        table[name] = pd.Series(values, dtype="str")
    table["day"] = np.array([0, 1, 6, 0, 5], dtype=np.int64)
    table["timestamp"] = np.array([1537286399, 1537286400, 1537747230, 1537212345, 1537678800],
                                  dtype=np.int64)
    table["label"] = np.array([0, 1, 1, 0, 0], dtype=np.int8)
    return table[CANONICAL_COLUMNS]


def write(raw_dir, lines, header=HEADER):
    (raw_dir / TRAIN_FILE).write_bytes(("\n".join([header, *lines]) + "\n").encode("ascii"))
    return raw_dir


def with_field(line: str, column: str, value: str) -> str:
    fields = line.split(" ")
    fields[COLUMNS.index(column)] = value
    return " ".join(fields)


def test_columns_are_the_real_header():
    assert COLUMNS == HEADER.split(" ")
    assert all(len(row.split(" ")) == 27 for row in ROWS)


def test_hand_written_file_gives_the_hand_computed_table(tmp_path):
    table = load_iaac(write(tmp_path, ROWS), check_rows=False)
    pd.testing.assert_frame_equal(table, expected_table())
    assert list(table.columns) == CANONICAL_COLUMNS


def test_windows_line_endings_read_the_same(tmp_path):
    (tmp_path / TRAIN_FILE).write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode())
    pd.testing.assert_frame_equal(load_iaac(tmp_path, check_rows=False), expected_table())


def test_day_split_of_the_hand_written_file(tmp_path):
    parts = day_split(load_iaac(write(tmp_path, ROWS), check_rows=False))
    assert {name: rows.tolist() for name, rows in parts.items()} == {
        "train": [0, 1, 3], "valid": [4], "test": [2]}


def test_day_split_refuses_an_empty_split_and_days_beyond_the_seventh(tmp_path):
    table = load_iaac(write(tmp_path, ROWS), check_rows=False)
    with pytest.raises(DataError, match=r"valid \(day 5\)"):
        day_split(table[table["day"] != 5])
    with pytest.raises(DataError, match=r"day\(s\) \[7\]"):
        day_split(table.assign(day=table["day"].replace(6, 7)))


def test_fixture_has_the_real_byte_layout(tmp_path):
    raw_dir = write_iaac_fixture(tmp_path, rows=300, seed=1)
    assert raw_dir == tmp_path
    data = (tmp_path / TRAIN_FILE).read_bytes()
    lines = data.decode("ascii").split("\n")
    assert data.endswith(b"\n") and not data.endswith(b"\n\n")
    assert b"\r" not in data and b'"' not in data and b"\t" not in data
    assert lines[0] == HEADER and len(lines) == 302
    fields = [line.split(" ") for line in lines[1:-1]]
    assert {len(f) for f in fields} == {27}
    ids = [int(f[COLUMNS.index("instance_id")]) for f in fields]
    assert len(set(ids)) == 300 and min(ids) >= 10**17 and max(ids) < 2**63
    predict = [f[COLUMNS.index("predict_category_property")] for f in fields]
    assert "-1" in predict and any(":-1" in p for p in predict)
    assert any("," in p for p in predict) and any(";" in p for p in predict)
    for column in ("item_brand_id", "user_age_level", "item_property_list",
                   "shop_score_service"):
        assert "-1" in [f[COLUMNS.index(column)] for f in fields], column


def test_fixture_parses_with_positives_on_all_seven_days(tmp_path):
    table = load_iaac(write_iaac_fixture(tmp_path, rows=300), check_rows=False)
    assert len(table) == 300 and list(table.columns) == CANONICAL_COLUMNS
    assert sorted(table["day"].unique()) == list(range(7))
    positives = table.groupby("day")["label"].sum()
    assert (positives >= 1).all() and 0.02 < table["label"].mean() < 0.15
    assert set(table["label"].unique()) == {0, 1}
    china = pd.to_datetime(table["timestamp"], unit="s", utc=True).dt.tz_convert(
        timezone(timedelta(hours=8)))
    assert (china.dt.strftime("%H") == table["hour"]).all()
    assert ((china.dt.day - 18).to_numpy() == table["day"].to_numpy()).all()
    assert (table["item_property_list"] == "").any() and (table["predict_category"] == "").any()
    assert (table["user_gender_id"] == "-1").any() and (table["shop_score_delivery"] == "-1").any()
    lists = table["item_property_list"].str.split("|")
    assert all(values == sorted(set(values)) for values in lists if values != [""])


def test_fixture_rows_and_seed(tmp_path):
    small = load_iaac(write_iaac_fixture(tmp_path / "a", rows=50, seed=3), check_rows=False)
    assert len(small) == 50 and (small.groupby("day")["label"].sum() >= 1).all()
    again = write_iaac_fixture(tmp_path / "b", rows=50, seed=3) / TRAIN_FILE
    other = write_iaac_fixture(tmp_path / "c", rows=50, seed=4) / TRAIN_FILE
    assert again.read_bytes() == (tmp_path / "a" / TRAIN_FILE).read_bytes()
    assert other.read_bytes() != again.read_bytes()


def test_day_split_of_the_fixture_is_by_day_and_covers_every_row(tmp_path):
    table = load_iaac(write_iaac_fixture(tmp_path, rows=300), check_rows=False)
    parts = day_split(table)
    joined = np.concatenate(list(parts.values()))
    assert len(joined) == len(set(joined.tolist())) == len(table)
    assert set(table["day"].iloc[parts["train"]]) == {0, 1, 2, 3, 4}
    assert set(table["day"].iloc[parts["valid"]]) == {5}
    assert set(table["day"].iloc[parts["test"]]) == {6}
    assert all((np.diff(rows) > 0).all() for rows in parts.values())


def test_missing_file_says_which_file_where_and_how(tmp_path):
    with pytest.raises(DataError) as error:
        load_iaac(tmp_path, check_rows=False)
    message = str(error.value)
    assert TRAIN_FILE in message and str(tmp_path) in message
    assert "https://tianchi.aliyun.com/dataset/147588" in message and "account" in message


def test_wrong_header_names_missing_and_unexpected_columns(tmp_path):
    write(tmp_path, ROWS, HEADER.replace("shop_star_level", "shop_stars"))
    with pytest.raises(DataError, match="missing column.s. shop_star_level.*unexpected "
                                        "column.s. shop_stars") as error:
        load_iaac(tmp_path, check_rows=False)
    assert TRAIN_FILE in str(error.value) and "line 1" in str(error.value)


def test_a_test_file_header_is_recognised(tmp_path):
    write(tmp_path, [row.rsplit(" ", 1)[0] for row in ROWS], HEADER.removesuffix(" is_trade"))
    with pytest.raises(DataError, match="test file.*missing column.s. is_trade"):
        load_iaac(tmp_path, check_rows=False)


def test_line_with_a_missing_field_is_named(tmp_path):
    short = ROWS[2].replace(" 4020 ", " ")
    write(tmp_path, [*ROWS[:2], short, *ROWS[3:]])
    with pytest.raises(DataError, match="expected 27 fields.*found 26") as error:
        load_iaac(tmp_path, check_rows=False)
    message = str(error.value)
    assert f"{TRAIN_FILE}, line 4:" in message and repr(short) in message


def test_blank_line_is_named(tmp_path):
    write(tmp_path, [ROWS[0], "", *ROWS[1:]])
    with pytest.raises(DataError, match=f"{TRAIN_FILE}, line 3: blank line"):
        load_iaac(tmp_path, check_rows=False)


@pytest.mark.parametrize("column, value, problem", [
    ("is_trade", "2", "is_trade '2' is not 0 or 1"),
    ("is_trade", "-1", "is_trade '-1' is not 0 or 1"),
    ("context_timestamp", "1537286400.5", "context_timestamp '1537286400.5' is not unix seconds"),
    ("context_timestamp", "-1", "context_timestamp '-1' is not unix seconds"),
    ("shop_score_delivery", "1.5", "shop_score_delivery '1.5' is neither a number in"),
    ("item_id", "abc", "item_id 'abc' is not a whole number"),
    ("item_category_list", "1;;2", "item_category_list '1;;2' is not ids joined by ';'"),
])
def test_bad_value_names_column_line_and_text(tmp_path, column, value, problem):
    bad = with_field(ROWS[3], column, value)
    write(tmp_path, [*ROWS[:3], bad, ROWS[4]])
    with pytest.raises(DataError) as error:
        load_iaac(tmp_path, check_rows=False)
    message = str(error.value)
    assert f"{TRAIN_FILE}, line 5: {problem}" in message and repr(bad) in message


def test_row_count_check(tmp_path):
    write(tmp_path, ROWS)
    assert len(load_iaac(tmp_path, check_rows=False)) == 5
    with pytest.raises(DataError, match=f"has 5 data rows.*{EXPECTED_ROWS}.*truncated"):
        load_iaac(tmp_path, check_rows=True)
    write(tmp_path, [])
    with pytest.raises(DataError, match="has 0 data rows"):
        load_iaac(tmp_path, check_rows=False)


def test_the_coded_splits_follow_the_days(tmp_path):
    from apg.data import preprocess_dataset
    from apg.data.batches import load_split
    write_iaac_fixture(tmp_path / "raw", rows=300, seed=2)
    table = load_iaac(tmp_path / "raw", check_rows=False)
    schema = preprocess_dataset("iaac", tmp_path / "raw", tmp_path / "out", check_counts=False,
                                split=[0.8, 0.1, 0.1], max_history=50)
    sizes = table["day"].value_counts()
    assert schema["rows"] == {"train": int(sizes[[0, 1, 2, 3, 4]].sum()),
                              "valid": int(sizes[5]), "test": int(sizes[6])}
    assert schema["split"].startswith("by China-time day")
    kinds = {field["name"]: field["kind"] for field in schema["fields"]}
    assert [name for name, kind in kinds.items() if kind == "multi"] == [
        "item_category_list", "item_property_list", "predict_category"]
    assert len(kinds) == 24 and "day" not in kinds and "timestamp" not in kinds
    _, y = load_split(tmp_path / "out", "test")
    np.testing.assert_array_equal(y.numpy(), table.loc[table["day"] == 6, "label"].to_numpy())
    with pytest.raises(DataError, match="has 300 data rows"):
        preprocess_dataset("iaac", tmp_path / "raw", tmp_path / "again", check_counts=True)
    assert not (tmp_path / "again").exists()
