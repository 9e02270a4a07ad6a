"""Parse every MovieLens source format into one canonical table.

Whichever source the files came from (GroupLens or the PyPI mirror), `load_canonical` returns the
same rows, columns, dtypes and order:

    user_id     str    "1"                     (the mirror's "1m_" prefix removed)
    item_id     str    ML-1M: "Toy Story (1995)" (the title with year, the mirror's key);
                       ML-100K: "1" (the numeric id)
    rating      int64  1..5
    timestamp   int64  unix seconds
    gender      str    "F" / "M"
    age         str    ML-1M: age-bucket code ("1", "18", ...); ML-100K: age in years
    occupation  str    ML-1M: occupation code ("0".."20"); ML-100K: occupation name
    zip         str    as written ("48067", "98107-2117", "T8H1N")
    year        str    the last "(YYYY)" in the title, "unknown" when there is none
    genres      str    genre names, sorted, joined by "|"

Rows are sorted by (numeric user id, timestamp, item_id).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from apg.data.sources import DATASETS, DataError, get_dataset

COLUMNS = ["user_id", "item_id", "rating", "timestamp", "gender", "age", "occupation", "zip",
           "year", "genres"]

# The order of the 19 one-hot genre flags in ML-100K's u.item; ML-1M has the same genres but
# "unknown". A genre outside them means a foreign or damaged file.
GENRES_100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
               "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
               "Romance", "Sci-Fi", "Thriller", "War", "Western")
RATINGS = (1, 5)   # MovieLens' star ratings, whole stars

# The published sizes of the real data sets (GroupLens' READMEs; items: the rated movies),
# checked with `check_counts`: a file cut short at a line boundary parses, and stops here.
EXPECTED_COUNTS = {"movielens-1m": {"ratings": 1_000_209, "users": 6_040, "items": 3_706},
                   "movielens-100k": {"ratings": 100_000, "users": 943, "items": 1_682}}


def _how_to_fix(path: Path) -> str:
    return (f"replace it with an unmodified copy (delete it, then run `python -m apg.data "
            f"download <dataset> --out {path.parent}`)")


class _File:
    """One source file split into string columns, remembering where each row came from."""

    def __init__(self, path: Path, sep: str, encoding: str, names: list[str] | None = None):
        """Read `path`; names=None means its first line is a typed header (`name:type` fields)."""
        self.path = path
        try:
            self.text = path.read_bytes().decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path} is not {encoding} text ({exc}); "
                            f"{_how_to_fix(path)}") from None
        if not self.text.strip():
            raise DataError(f"{path} is empty; {_how_to_fix(path)}")
        self.first_line = 1
        if names is None:
            header = self.text.split("\n", 1)[0].rstrip("\r")
            names = [field.split(":")[0] for field in header.split(sep)]
            self.first_line = 2
        invalid = []

        def reject(row: pacsv.InvalidRow) -> str:
            invalid.append(row)
            return "error"

        try:
            table = pacsv.read_csv(
                io.BytesIO(self.text.replace(sep, "\x1f").encode("utf-8")),
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=self.first_line - 1,
                                                use_threads=False),
                parse_options=pacsv.ParseOptions(
                    delimiter="\x1f", quote_char=False, ignore_empty_lines=False,
                    invalid_row_handler=reject),
                convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names,
                                                                                pa.string())))
        except pa.ArrowInvalid as exc:
            if not invalid:
                raise DataError(f"{path} could not be read ({exc}); "
                                f"{_how_to_fix(path)}") from None
            row = invalid[0]
            raise DataError(f"{path}, line {row.number}: expected {len(names)} fields separated "
                            f"by {sep!r}, found {row.actual_columns}: {self.line(row.number)!r}; "
                            f"{_how_to_fix(path)}") from None
        self.frame = table.to_pandas()

    def line(self, number: int) -> str:
        """The text of line `number` (1-based)."""
        return self.text.split("\n")[number - 1].rstrip("\r")

    def require(self, names: list[str]) -> None:
        """DataError unless the header names every column in `names`."""
        missing = [name for name in names if name not in self.frame.columns]
        if missing:
            raise DataError(f"{self.path}: the header lacks column(s) {', '.join(missing)} "
                            f"(found {', '.join(self.frame.columns)}); "
                            f"{_how_to_fix(self.path)}")

    def error(self, row: int, problem: str) -> DataError:
        """A DataError naming this file, the line of row number `row` and the line itself."""
        number = self.first_line + row
        return DataError(f"{self.path}, line {number}: {problem}: {self.line(number)!r}; "
                         f"{_how_to_fix(self.path)}")

    def integers(self, column: str, prefix: str = "") -> pd.Series:
        """Column as int64: "5", "5.0" and (with prefix "1m_") "1m_5" all give 5."""
        text = self.frame[column]
        values = pd.to_numeric(text.str.removeprefix(prefix), errors="coerce")
        bad = (values.isna() | (values % 1 != 0)).to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            after = f" after the prefix {prefix!r}" if prefix else ""
            raise self.error(row, f"{column} {text.iloc[row]!r} is not a whole number{after}")
        return values.astype("int64")

    def ids(self, column: str, prefix: str = "") -> pd.Series:
        """A numeric id column as canonical strings ("0001" and "1.0" become "1")."""
        return self.integers(column, prefix).astype("str")

    def tokens(self, column: str) -> pd.Series:
        """A categorical column; whole numbers written as floats ("10.0") become "10"."""
        text = self.frame[column]
        values = pd.to_numeric(text, errors="coerce")
        whole = values.notna() & (values % 1 == 0)
        return text.mask(whole, values[whole].astype("int64").astype("str"))


def title_year(title: str) -> str:
    """The last "(YYYY)" in a title, or "unknown"."""
    years = re.findall(r"\((\d{4})\)", title)
    return years[-1] if years else "unknown"


def _genres(names: str, sep: str | None) -> str:
    """Genre names split at `sep` (None: whitespace), sorted and joined by "|"."""
    return "|".join(sorted(names.split(sep)))


def _ratings(file: _File, item_ids: pd.Series, user_prefix: str = "") -> pd.DataFrame:
    return pd.DataFrame({"user_id": file.ids("user_id", user_prefix), "item_id": item_ids,
                         "rating": file.integers("rating"),
                         "timestamp": file.integers("timestamp")})


def _users(file: _File, zip_column: str, user_prefix: str = "") -> pd.DataFrame:
    return pd.DataFrame({"user_id": file.ids("user_id", user_prefix),
                         "gender": file.frame["gender"], "age": file.tokens("age"),
                         "occupation": file.tokens("occupation"),
                         "zip": file.frame[zip_column]})


def _grouplens_1m(ratings_path: Path, users_path: Path, movies_path: Path) -> pd.DataFrame:
    ratings = _File(ratings_path, "::", "latin-1", ["user_id", "movie_id", "rating", "timestamp"])
    users = _File(users_path, "::", "latin-1", ["user_id", "gender", "age", "occupation", "zip"])
    movies = _File(movies_path, "::", "latin-1", ["movie_id", "title", "genres"])
    movie_ids = movies.ids("movie_id")
    _check_unique(movies, movie_ids, "movie id")
    titles = pd.Series(movies.frame["title"].to_numpy(), index=movie_ids.to_numpy())
    rated = ratings.ids("movie_id")
    _check_known(ratings, rated, titles.index, "movie id", movies_path)
    items = pd.DataFrame({"item_id": movies.frame["title"],
                          "year": movies.frame["title"].map(title_year),
                          "genres": movies.frame["genres"].map(lambda g: _genres(g, "|"))})
    return _assemble((ratings, users, movies), _ratings(ratings, rated.map(titles)),
                     _users(users, "zip"), items)


def _grouplens_100k(ratings_path: Path, users_path: Path, items_path: Path) -> pd.DataFrame:
    ratings = _File(ratings_path, "\t", "latin-1", ["user_id", "item_id", "rating", "timestamp"])
    users = _File(users_path, "|", "latin-1", ["user_id", "age", "gender", "occupation", "zip"])
    movies = _File(items_path, "|", "latin-1",
                   ["item_id", "title", "release_date", "video_release_date", "imdb_url",
                    *GENRES_100K])
    flags = movies.frame[list(GENRES_100K)]
    bad = ~flags.isin(["0", "1"]).all(axis=1).to_numpy()
    if bad.any():
        raise movies.error(int(np.argmax(bad)), "genre flags must be 0 or 1")
    genres = ["|".join(sorted(g for g, on in zip(GENRES_100K, row) if on))
              for row in flags.to_numpy() == "1"]
    items = pd.DataFrame({"item_id": movies.ids("item_id"),
                          "year": movies.frame["title"].map(title_year),
                          "genres": pd.Series(genres, dtype="str")})
    return _assemble((ratings, users, movies), _ratings(ratings, ratings.ids("item_id")),
                     _users(users, "zip"), items)


def _mirror(inter_path: Path, user_path: Path, item_path: Path, *, user_prefix: str,
            numeric_items: bool, title_column: str, genre_column: str) -> pd.DataFrame:
    """The RecBole atomic files (tab-separated, typed header, utf-8) of either data set.

    The year is `release_year` when that is four digits; otherwise (ML-100K writes "unkonwn" for
    an item without date, and "V" for a title ending in "(V)") the last "(YYYY)" in the title.
    """
    inter = _File(inter_path, "\t", "utf-8")
    user = _File(user_path, "\t", "utf-8")
    item = _File(item_path, "\t", "utf-8")
    inter.require(["user_id", "item_id", "rating", "timestamp"])
    user.require(["user_id", "age", "gender", "occupation", "zip_code"])
    item.require(["item_id", title_column, "release_year", genre_column])

    def item_ids(file: _File) -> pd.Series:
        return file.ids("item_id") if numeric_items else file.frame["item_id"]

    release = item.tokens("release_year")
    items = pd.DataFrame({"item_id": item_ids(item),
                          "year": release.where(release.str.fullmatch(r"\d{4}"),
                                                item.frame[title_column].map(title_year)),
                          "genres": item.frame[genre_column].map(lambda g: _genres(g, None))})
    return _assemble((inter, user, item), _ratings(inter, item_ids(inter), user_prefix),
                     _users(user, "zip_code", user_prefix), items)


def _check_values(file: _File, values: pd.Series, valid: pd.Series, what: str) -> None:
    """DataError at the first row of `file` whose value is not `valid`."""
    bad = (~valid).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise file.error(row, f"{what}: {values.iloc[row]}")


def check_movielens_counts(canonical: pd.DataFrame, dataset: str, raw_dir: Path) -> None:
    """DataError unless the table has the real data set's ratings, users and rated items
    (`EXPECTED_COUNTS`): files cut short or from elsewhere parse, but must not pass as it."""
    found = {"ratings": len(canonical), "users": canonical["user_id"].nunique(),
             "items": canonical["item_id"].nunique()}
    if found != EXPECTED_COUNTS[dataset]:
        raise DataError(f"the {dataset} files in {raw_dir} hold {found}, the real data set "
                        f"{EXPECTED_COUNTS[dataset]}: they are truncated or not {dataset}'s. "
                        f"Delete them and run python -m apg.data download {dataset} --out "
                        f"{raw_dir} (a fixture placed there on purpose: set "
                        "data.check_counts: false)")


def _check_unique(file: _File, keys: pd.Series, what: str) -> None:
    duplicated = keys.duplicated().to_numpy()
    if duplicated.any():
        row = int(np.argmax(duplicated))
        raise file.error(row, f"{what} {keys.iloc[row]!r} appears a second time")


def _check_known(ratings: _File, keys: pd.Series, known: pd.Index, what: str,
                 where: Path) -> None:
    unknown = (~keys.isin(known)).to_numpy()
    if unknown.any():
        row = int(np.argmax(unknown))
        raise ratings.error(row, f"{unknown.sum()} rating(s) refer to a {what} missing from "
                                 f"{where}, first {keys.iloc[row]!r}")


def _assemble(files: tuple[_File, _File, _File], ratings: pd.DataFrame, users: pd.DataFrame,
              items: pd.DataFrame) -> pd.DataFrame:
    """Join ratings with user and item features after checking the keys; canonical order."""
    ratings_file, users_file, items_file = files
    _check_values(ratings_file, ratings["rating"], ratings["rating"].between(*RATINGS),
                  f"rating outside {RATINGS[0]}-{RATINGS[1]}")
    known = items["genres"].str.split("|").map(set(GENRES_100K).issuperset)
    _check_values(items_file, items["genres"], known,
                  f"genre outside MovieLens' {len(GENRES_100K)} ({', '.join(GENRES_100K)})")
    _check_unique(users_file, users["user_id"], "user id")
    _check_unique(items_file, items["item_id"], "item")
    _check_known(ratings_file, ratings["user_id"], pd.Index(users["user_id"]), "user id",
                 users_file.path)
    _check_known(ratings_file, ratings["item_id"], pd.Index(items["item_id"]), "item",
                 items_file.path)
    frame = ratings.merge(users, on="user_id", how="left").merge(items, on="item_id", how="left")
    frame["user_number"] = frame["user_id"].astype("int64")
    frame = frame.sort_values(["user_number", "timestamp", "item_id"], kind="stable")
    types = {c: "str" for c in COLUMNS} | {"rating": "int64", "timestamp": "int64"}
    return frame[COLUMNS].astype(types).reset_index(drop=True)


_PARSERS: dict[str, Callable[[Path, Path, Path], pd.DataFrame]] = {
    "grouplens-1m": _grouplens_1m,
    "grouplens-100k": _grouplens_100k,
    "mirror-1m": partial(_mirror, user_prefix="1m_", numeric_items=False,
                         title_column="item_id", genre_column="genre"),
    "mirror-100k": partial(_mirror, user_prefix="", numeric_items=True,
                           title_column="movie_title", genre_column="class"),
}


def load_canonical(raw_dir: Path, dataset: str | None = None,
                   check_counts: bool = False) -> pd.DataFrame:
    """The canonical table of the MovieLens files in `raw_dir`, whichever source they came from.

    The format is recognised from the file names (the first complete set of a MovieLens data
    set's files, in registry order); `dataset` restricts the search to that data set's sources,
    and with `check_counts` its table must have the real data set's size
    (`check_movielens_counts`).
    Every file's values are checked (ratings 1-5, MovieLens' genres, known users and items).
    """
    raw_dir = Path(raw_dir)
    specs = ([get_dataset(dataset)] if dataset else
             [spec for spec in DATASETS.values() if spec.sources[0].format in _PARSERS])
    for spec in specs:
        for source in spec.sources:
            paths = [raw_dir / name for name in source.files]
            if all(path.is_file() for path in paths):
                canonical = _PARSERS[source.format](*paths)
                if check_counts and dataset:
                    check_movielens_counts(canonical, dataset, raw_dir)
                return canonical
    present = sorted(p.name for p in raw_dir.iterdir()) if raw_dir.is_dir() else []
    expected = "\n".join(f"  - {spec.name} from {source.name}: {', '.join(source.files)}"
                         for spec in specs for source in spec.sources)
    raise DataError(
        f"no complete set of MovieLens files in {raw_dir} "
        f"(it holds: {', '.join(present) or 'nothing'}). Expected one of:\n{expected}\n"
        f"Fetch them with: python -m apg.data download {dataset or '<dataset>'} --out {raw_dir}")
