"""IAAC (IJCAI-18 Alimama ad conversion): the train file parsed into one canonical table.

Only `round1_ijcai_18_train_20180301.txt` is read. The test files (`round1_ijcai_18_test_a_...`,
`..._test_b_...`) have no `is_trade` column, so they give no labels and the kit does not use them;
its train / valid / test splits all come from the train file (`day_split`).

The file is space-separated text with a header line, no quoting, 27 columns (`COLUMNS`); `-1`
means missing in any column. `load_iaac` returns, one row per line of the file, in file order:

    item_id ... shop_star_level   str    the 16 single-valued fields of `SINGLE_FIELDS`, as written;
                                         "-1" (missing) is kept: it is a category of its own
    hour                          str    "00".."23", the hour of `context_timestamp` in China time
    shop_review_positive_rate,    str    the score's bucket, floor(value * 100) / 100 written with
    shop_score_service,                  two decimals ("0.97" holds [0.97, 0.98), "1.00" holds 1.0);
    shop_score_delivery,                 "-1" when missing. The scores cluster in [0.9, 1], so a
    shop_score_description               coarser fixed grid would leave only a few buckets.
    item_category_list,           str    the `;`-separated ids, without "-1" and empty entries,
    item_property_list                   unique, sorted as strings, joined by "|"; "" when none
    predict_category              str    the categories of `predict_category_property` (each entry
                                         `category:prop,prop`, properties dropped), same rule
    day                           int64  China-time calendar day, 0 = the earliest day in the file
    timestamp                     int64  `context_timestamp`, unix seconds
    label                         int8   `is_trade`, 0 or 1

`instance_id` and `context_id` are per-row identifiers, not features, and are not returned.
The multi-valued fields follow the preprocessing convention: values joined by "|", "" for none.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from apg.data.preprocess import Rows, write_coded
from apg.data.sources import DataError, get_dataset

SOURCE = get_dataset("iaac").sources[0]   # placed by hand (apg.data.sources)
(TRAIN_FILE,) = SOURCE.files
PAGE = SOURCE.url
EXPECTED_ROWS = 478138
COLUMNS = [
    "instance_id", "item_id", "item_category_list", "item_property_list", "item_brand_id",
    "item_city_id", "item_price_level", "item_sales_level", "item_collected_level",
    "item_pv_level", "user_id", "user_gender_id", "user_age_level", "user_occupation_id",
    "user_star_level", "context_id", "context_timestamp", "context_page_id",
    "predict_category_property", "shop_id", "shop_review_num_level", "shop_review_positive_rate",
    "shop_star_level", "shop_score_service", "shop_score_delivery", "shop_score_description",
    "is_trade",
]
SINGLE_FIELDS = (
    "item_id", "item_brand_id", "item_city_id", "item_price_level", "item_sales_level",
    "item_collected_level", "item_pv_level", "user_id", "user_gender_id", "user_age_level",
    "user_occupation_id", "user_star_level", "context_page_id", "shop_id",
    "shop_review_num_level", "shop_star_level",
)
SCORE_FIELDS = ("shop_review_positive_rate", "shop_score_service", "shop_score_delivery",
                "shop_score_description")
MULTI_FIELDS = ("item_category_list", "item_property_list", "predict_category")
CANONICAL_COLUMNS = [*SINGLE_FIELDS, "hour", *SCORE_FIELDS, *MULTI_FIELDS, "day", "timestamp",
                     "label"]
MISSING = "-1"
CHINA_OFFSET_S = 8 * 3600           # China time is UTC+8 all year
SPLIT_DAYS = {"train": (0, 1, 2, 3, 4), "valid": (5,), "test": (6,)}
SPLIT_RULE = "by China-time day: days 0-4 train, day 5 valid, day 6 test"

_SCORE_BUCKETS = np.array([f"{k / 100:.2f}" for k in range(101)], dtype=object)
_ID_LIST = r"^-?\d+(;-?\d+)*$"
_PREDICT = r"^-?\d+(:[^;]*)?(;-?\d+(:[^;]*)?)*$"


def missing_files_message(raw_dir: Path) -> str:
    """What to do when the train file is not in `raw_dir`."""
    return (f"the IAAC train file {TRAIN_FILE} is missing from {raw_dir}/. The kit cannot "
            f"download it: the data set's page {PAGE} needs a (free) Tianchi account. Sign in "
            f"there, download {TRAIN_FILE} (unzip it if it comes as a .zip), and put it, "
            f"unchanged, into {raw_dir}/. The test files (round1_ijcai_18_test_*) are not "
            f"needed: they have no is_trade labels.")


def _replace(path: Path) -> str:
    return (f"the file is not an unmodified copy of IJCAI-18's train file: download "
            f"{TRAIN_FILE} again from {PAGE} and replace {path}")


def _line(path: Path, number: int) -> str:
    """The text of line `number` (1-based) of `path`, without its line ending."""
    with path.open("rb") as lines:
        line = next(islice(lines, number - 1, None), b"")
    return line.rstrip(b"\r\n").decode("utf-8", errors="replace")


def _header(path: Path) -> list[str]:
    """The column names of the header line; DataError unless they are exactly `COLUMNS`."""
    with path.open("rb") as lines:
        first = lines.readline().rstrip(b"\r\n").decode("utf-8", errors="replace")
    if not first:
        raise DataError(f"{path} is empty or starts with a blank line; {_replace(path)}")
    names = first.split(" ")
    missing = [name for name in COLUMNS if name not in names]
    unexpected = [name for name in dict.fromkeys(names) if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if missing or unexpected or repeated:
        problems = [f"{what} column(s) {', '.join(found)}" for what, found in
                    (("missing", missing), ("unexpected", unexpected), ("repeated", repeated))
                    if found]
        hint = (" (a test file, which has no labels?)" if missing == ["is_trade"] else "")
        raise DataError(f"{path}, line 1: the header is not that of IAAC's train file{hint}: "
                        f"{'; '.join(problems)}: {first!r}; {_replace(path)}")
    return names


def _first_bad_line(path: Path, fields: int) -> tuple[int, str] | None:
    """(number, text) of the first line after the header without `fields` fields, if any."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if number > 1 and line.count(b" ") != fields - 1:
                return number, line.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return None


def _read(path: Path, names: list[str]) -> pa.Table:
    """Every data line of `path` as string columns; DataError on a line of the wrong width."""
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=" ", quote_char=False,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())))
    except pa.ArrowInvalid as exc:
        bad = _first_bad_line(path, len(names))
        if bad is None:
            raise DataError(f"{path} could not be read ({exc}); {_replace(path)}") from None
        number, text = bad
        raise DataError(f"{path}, line {number}: expected {len(names)} fields separated by "
                        f"single spaces, found {text.count(' ') + 1}: {text!r}; "
                        f"{_replace(path)}") from None


class _Rows:
    """The string columns of the train file, and errors that quote the offending line."""

    def __init__(self, path: Path, table: pa.Table):
        self.path = path
        self.table = table

    def error(self, row: int, problem: str) -> DataError:
        """A DataError naming the file, the line of data row `row` (0-based) and its text."""
        number = row + 2
        text = _line(self.path, number)
        return DataError(f"{self.path}, line {number}: {problem if text else 'blank line'}: "
                         f"{text!r}; {_replace(self.path)}")

    def matching(self, column: str, pattern: str, expected: str) -> pa.ChunkedArray:
        """The column, after checking that every value matches the RE2 `pattern`."""
        values = self.table[column]
        bad = pc.invert(pc.match_substring_regex(values, pattern))
        if pc.any(bad).as_py():
            row = pc.index(bad, True).as_py()
            raise self.error(row, f"{column} {values[row].as_py()!r} is not {expected}")
        return values

    def strings(self, column: str, pattern: str, expected: str) -> pd.Series:
        """A checked column as a pandas "str" Series."""
        return self.matching(column, pattern, expected).to_pandas().astype("str")

    def scores(self, column: str) -> pd.Series:
        """A score in [0, 1] as its bucket label (see the module docstring); "-1" if missing."""
        values = pd.to_numeric(self.table[column].to_pandas(), errors="coerce").to_numpy(np.float64)
        missing = values == -1
        bad = ~missing & ~((values >= 0) & (values <= 1))
        if bad.any():
            row = int(np.argmax(bad))
            raise self.error(row, f"{column} {self.table[column][row].as_py()!r} is neither a "
                                  f"number in [0, 1] nor -1")
        steps = np.floor(np.where(missing, 0, values) * 100 + 1e-9).astype(np.int64)
        return pd.Series(np.where(missing, MISSING, _SCORE_BUCKETS[steps]), dtype="str")


def _joined(values: pd.Series, categories: bool) -> pd.Series:
    """`;`-separated values (with `categories`, `category:props` entries reduced to the category)
    without "-1" and empty entries, unique, sorted as strings and joined by "|"."""
    codes, uniques = pd.factorize(values)

    def join(text: str) -> str:
        entries = text.split(";")
        if categories:
            entries = [entry.split(":", 1)[0] for entry in entries]
        return "|".join(sorted(set(entries) - {MISSING, ""}))

    return pd.Series(np.array([join(text) for text in uniques], dtype=object)[codes],
                     dtype="str")


def _china_hour_and_day(timestamps: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Hour labels "00".."23" and day indices (0 = earliest day) in China time."""
    local = timestamps + CHINA_OFFSET_S
    hours = np.array([f"{h:02d}" for h in range(24)], dtype=object)[(local // 3600) % 24]
    days = local // 86400
    return pd.Series(hours, dtype="str"), (days - days.min()).astype(np.int64)


def load_iaac(raw_dir: Path, check_rows: bool) -> pd.DataFrame:
    """The canonical table (see the module docstring) of `TRAIN_FILE` in `raw_dir`.

    With `check_rows` (the real file, not a fixture) DataError unless it has the real file's
    `EXPECTED_ROWS` data rows.
    """
    path = Path(raw_dir) / TRAIN_FILE
    if not path.is_file():
        raise DataError(missing_files_message(Path(raw_dir)))
    rows = _Rows(path, _read(path, _header(path)))
    count = rows.table.num_rows
    if count == 0 or (check_rows and count != EXPECTED_ROWS):
        raise DataError(f"{path} has {count} data rows, IJCAI-18's train file has "
                        f"{EXPECTED_ROWS}: the file looks truncated or is a different file; "
                        f"{_replace(path)}")
    frame = {name: rows.strings(name, r"^-?\d+$", "a whole number or -1")
             for name in SINGLE_FIELDS}
    timestamps = pc.cast(rows.matching("context_timestamp", r"^\d{1,18}$",
                                       "unix seconds (every instance needs its time)"),
                         pa.int64()).to_numpy()
    frame["hour"], day = _china_hour_and_day(timestamps)
    frame |= {name: rows.scores(name) for name in SCORE_FIELDS}
    for name in ("item_category_list", "item_property_list"):
        frame[name] = _joined(rows.strings(name, _ID_LIST, "ids joined by ';', or -1"), False)
    frame["predict_category"] = _joined(
        rows.strings("predict_category_property", _PREDICT,
                     "'category:prop,...' entries joined by ';', or -1"), True)
    label = rows.matching("is_trade", r"^[01]$", "0 or 1")
    frame |= {"day": day, "timestamp": timestamps,
              "label": pc.cast(label, pa.int8()).to_numpy()}
    return pd.DataFrame(frame)[CANONICAL_COLUMNS]


def day_split(canonical: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row indices (sorted) of the train / valid / test splits, by China-time day.

    train = days 0..4, valid = day 5, test = day 6 (`SPLIT_DAYS`). The competition asked for the
    conversions of the day after the training data, so the kit keeps time order: a random split
    would train on the future of its own validation and test rows. DataError when the table has
    a day outside 0..6 or when a split would be empty.
    """
    days = canonical["day"].to_numpy()
    known = np.concatenate([np.array(d) for d in SPLIT_DAYS.values()])
    outside = sorted(set(np.unique(days).tolist()) - set(known.tolist()))
    if outside:
        raise DataError(f"IAAC spans 7 days (0..6), this table also has day(s) {outside}: "
                        f"use the unmodified train file {TRAIN_FILE}")
    parts = {name: np.flatnonzero(np.isin(days, chosen)) for name, chosen in SPLIT_DAYS.items()}
    empty = [f"{name} (day {', '.join(map(str, SPLIT_DAYS[name]))})"
             for name, rows in parts.items() if not len(rows)]
    if empty:
        raise DataError(f"the day split would leave {', '.join(empty)} empty: the table has "
                        f"no row on that day; use the complete train file {TRAIN_FILE}")
    return parts


def iaac_rows(canonical: pd.DataFrame) -> Rows:
    """The canonical table as preprocessing's rows: its categorical fields (the score buckets
    and the hour among them), the three lists multi-valued, `day_split`'s split."""
    fields = [name for name in CANONICAL_COLUMNS if name not in ("day", "timestamp", "label")]
    return Rows(canonical[fields], MULTI_FIELDS, canonical["label"].to_numpy(),
                day_split(canonical), {"split": SPLIT_RULE})


def preprocess_iaac(raw_dir: Path, out_dir: Path, *, check_counts: bool) -> dict:
    """The IAAC train file in `raw_dir` as coded splits in `out_dir` (`write_coded`); returns
    the schema."""
    return write_coded(iaac_rows(load_iaac(raw_dir, check_counts)), out_dir, {})
