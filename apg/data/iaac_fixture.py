"""A synthetic IAAC train file in the real file's exact byte layout, small for tests or of the
real size (rows=EXPECTED_ROWS) for the preprocessing benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from apg.data.iaac import COLUMNS, MISSING, SCORE_FIELDS, TRAIN_FILE

FIRST_DAY_S = 1537200000            # 2018-09-18 00:00 China time, the real file's first day


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct ids like IAAC's: large positive 64-bit integers, as strings."""
    ids: set[int] = set()
    while len(ids) < n:
        ids.update(rng.integers(10**17, 2**63 - 1, size=n - len(ids), dtype=np.int64).tolist())
    return rng.permutation(np.array([str(i) for i in sorted(ids)], dtype=object))


def _fixture_levels(rng: np.random.Generator, n: int, low: int, high: int,
                    missing: float) -> np.ndarray:
    """`n` whole numbers in [low, high] as strings, about a `missing` fraction of them "-1"."""
    values = rng.integers(low, high + 1, size=n).astype(str).astype(object)
    values[rng.random(n) < missing] = MISSING
    return values


def _fixture_scores(rng: np.random.Generator, n: int, low: float) -> np.ndarray:
    """`n` scores in [low, 1] as the file writes them ("0.974731", "1.0"), 3 % of them "-1"."""
    values = np.round(rng.uniform(low, 1.0, size=n), 6)
    values[rng.random(n) < 0.05] = 1.0
    text = np.array([repr(float(v)) for v in values], dtype=object)
    text[rng.random(n) < 0.03] = MISSING
    return text


def _fixture_items(rng: np.random.Generator, n_items: int, n_shops: int,
                   subs: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """Item columns (id, `;` lists, brand, city, levels), each item's sub-category and shop.

    The last item has "-1" in each of its columns that can be missing and is sold by the last
    shop."""
    root, thirds, props = _ids(rng, 1)[0], _ids(rng, 6), _ids(rng, max(30, 3 * n_items))
    sub = rng.integers(len(subs), size=n_items)
    categories, properties = [], []
    for i in range(n_items):
        path = [root, subs[sub[i]]] + ([thirds[sub[i] % 6]] if rng.random() < 0.3 else [])
        categories.append(";".join(path))
        chosen = list(rng.choice(props, size=min(len(props), 1 + rng.poisson(8)),
                                 replace=False))
        if rng.random() < 0.05:
            chosen.append(chosen[0])                 # a repeated property
        properties.append(MISSING if rng.random() < 0.03 else ";".join(chosen))
    columns = {
        "item_id": _ids(rng, n_items),
        "item_category_list": np.array(categories, dtype=object),
        "item_property_list": np.array(properties, dtype=object),
        "item_brand_id": np.where(rng.random(n_items) < 0.03, MISSING,
                                  rng.choice(_ids(rng, max(3, n_items // 5)), n_items)),
        "item_city_id": np.where(rng.random(n_items) < 0.02, MISSING,
                                 rng.choice(_ids(rng, 10), n_items)),
        "item_price_level": _fixture_levels(rng, n_items, 0, 10, 0),
        "item_sales_level": _fixture_levels(rng, n_items, 0, 17, 0.02),
        "item_collected_level": _fixture_levels(rng, n_items, 0, 17, 0),
        "item_pv_level": _fixture_levels(rng, n_items, 0, 21, 0),
    }
    for name in ("item_property_list", "item_brand_id", "item_city_id", "item_sales_level"):
        columns[name][-1] = MISSING
    shop = rng.integers(n_shops, size=n_items)
    shop[-1] = n_shops - 1
    return columns, sub, shop


def _fixture_users(rng: np.random.Generator, n_users: int) -> dict:
    """User columns: id, gender, age, occupation and star level; the last user's are "-1"."""
    genders = np.array([MISSING, "0", "1", "2"], dtype=object)
    columns = {"user_gender_id": rng.choice(genders, n_users, p=[0.03, 0.6, 0.3, 0.07]),
               "user_age_level": _fixture_levels(rng, n_users, 1000, 1007, 0.03),
               "user_occupation_id": _fixture_levels(rng, n_users, 2002, 2005, 0.03),
               "user_star_level": _fixture_levels(rng, n_users, 3000, 3010, 0.03)}
    for values in columns.values():
        values[-1] = MISSING
    return {"user_id": _ids(rng, n_users)} | columns


def _fixture_shops(rng: np.random.Generator, n_shops: int) -> dict:
    """Shop columns: id, levels and the four scores; the last shop's scores are "-1"."""
    columns = {"shop_id": _ids(rng, n_shops),
               "shop_review_num_level": _fixture_levels(rng, n_shops, 0, 25, 0),
               "shop_review_positive_rate": _fixture_scores(rng, n_shops, 0.9),
               "shop_star_level": _fixture_levels(rng, n_shops, 4999, 5020, 0),
               "shop_score_service": _fixture_scores(rng, n_shops, 0.85),
               "shop_score_delivery": _fixture_scores(rng, n_shops, 0.85),
               "shop_score_description": _fixture_scores(rng, n_shops, 0.85)}
    for name in SCORE_FIELDS:
        columns[name][-1] = MISSING
    return columns


def _predicted(rng: np.random.Generator, sub: str, subs: np.ndarray, properties: str) -> str:
    """A `predict_category_property` value: "-1", or `category:prop,...` / `category:-1`
    entries, usually starting with the item's own sub-category."""
    if rng.random() < 0.04:
        return MISSING
    cats = [sub] if rng.random() < 0.8 else []
    cats += list(rng.choice(subs, size=rng.integers(0 if cats else 1, 4)))
    props = properties.split(";")
    return ";".join(f"{cat}:" + (MISSING if rng.random() < 0.3 else
                                 ",".join(rng.choice(props, size=rng.integers(1, 4))))
                    for cat in cats)


def _labels(rng: np.random.Generator, liked: np.ndarray, days: np.ndarray) -> np.ndarray:
    """is_trade: 25 % when the user likes the item's sub-category, else 3.5 %; then the first row
    of any day without a positive is made positive."""
    label = (rng.random(len(liked)) < np.where(liked, 0.25, 0.035)).astype(np.int8)
    for day in np.unique(days):
        on_day = np.flatnonzero(days == day)
        if not label[on_day].any():
            label[on_day[0]] = 1
    return label


def write_iaac_fixture(raw_dir: Path, rows: int = 300, seed: int = 0) -> Path:
    """Write a synthetic `TRAIN_FILE` into `raw_dir` (returned) in the real file's byte layout.

    Header line, then `rows` lines of 27 fields separated by single spaces, "\\n"-terminated, no
    quoting; ids are large 64-bit integers, list fields `;`-joined, `predict_category_property`
    entries `category:prop,prop` or `category:-1`, "-1" sprinkled into the id, level, list and
    score columns (never into instance_id, context_id, context_timestamp or is_trade). The rows
    spread evenly over the 7 days from 2018-09-18 (China time), in random order; the first row
    has every kind of missing value, so even a tiny fixture holds them all. Each user
    prefers one of 12 sub-categories; about 5 % of the rows are positive, more often when the
    item is in the user's preferred sub-category, and every day has a positive.
    rows=EXPECTED_ROWS gives a file of the real one's size, for benchmarks.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)
    subs = _ids(rng, 12)
    n_shops = max(4, rows // 120)
    items, item_sub, item_shop = _fixture_items(rng, max(8, rows // 40), n_shops, subs)
    users = _fixture_users(rng, max(10, rows // 3))
    likes = rng.integers(len(subs), size=len(users["user_id"]))
    shops = _fixture_shops(rng, n_shops)
    item = rng.integers(len(item_sub), size=rows)
    user = rng.integers(len(likes), size=rows)
    item[0], user[0] = len(item_sub) - 1, len(likes) - 1    # every kind of missing value
    days = rng.permutation(np.arange(rows) % 7)
    columns = ({name: values[item] for name, values in items.items()}
               | {name: values[user] for name, values in users.items()}
               | {name: values[item_shop[item]] for name, values in shops.items()})
    columns |= {
        "instance_id": _ids(rng, rows), "context_id": _ids(rng, rows),
        "context_timestamp": (FIRST_DAY_S + days * 86400
                              + rng.integers(86400, size=rows)).astype(str),
        "context_page_id": _fixture_levels(rng, rows, 4001, 4020, 0),
        "predict_category_property": [MISSING] + [
            _predicted(rng, subs[item_sub[i]], subs, items["item_property_list"][i])
            for i in item[1:]],
        "is_trade": _labels(rng, likes[user] == item_sub[item], days).astype(str)}
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    with (raw_dir / TRAIN_FILE).open("w", encoding="ascii", newline="\n") as out:
        out.write(" ".join(COLUMNS) + "\n")
        out.writelines(" ".join(fields) + "\n"
                       for fields in zip(*(columns[name] for name in COLUMNS)))
    return raw_dir
