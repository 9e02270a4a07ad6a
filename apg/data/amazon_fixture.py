"""Synthetic Amazon Electronics files in SNAP's exact layout, small for tests or full-size for
the preprocessing benchmark.

Reviews: gzip, one JSON object per line with SNAP's keys (reviewerID, asin, reviewerName,
helpful, reviewText, overall, summary, unixReviewTime, reviewTime). Metadata: gzip, one Python
dict literal per line (as SNAP wrote them, single quotes) with asin, title, price, imUrl,
related, salesRank, brand and categories (a list of category paths), and items nobody reviewed.
Awkward cases on purpose: non-ASCII names and titles (some as Python escapes), records missing
optional keys, reviews of one user at the same second, a user with a single review.

Each user prefers one category and reviews mostly its items, so a model that sees the history's
categories beats AUC 0.5 on the candidate item.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import numpy as np

from apg.data.amazon import EXPECTED_COUNTS, META_FILE, REVIEWS_FILE

# `write_amazon_files` arguments that give files of the real ones' size
FULL_SIZE = {"n_users": EXPECTED_COUNTS["users"], "n_items": EXPECTED_COUNTS["items"],
             "n_categories": EXPECTED_COUNTS["categories"], "reviews_per_user": 8.78,
             "n_unreviewed": 498196 - EXPECTED_COUNTS["items"], "review_words": 100}

_NAMES = ("J. McDonald", "Zoë Ångström", "Kenji 山田", "A. Customer", "François")
_TEXT = ("Works as described. Très bien — 5 étoiles. " * 20).split()
_WORDS = ("Cable", "Adapter", "Héadphones", "Charger", "Case", "Mouse", "Lens", "Speaker")


def write_amazon_files(raw_dir: Path, n_users: int = 40, n_items: int = 60,
                       n_categories: int = 6, reviews_per_user: float = 7,
                       n_unreviewed: int = 5, review_words: int = 8, seed: int = 0) -> Path:
    """Write both gzip files into `raw_dir` (returned). Users have 1 + Poisson(reviews_per_user
    - 1) reviews, at least 5 (the 5-core rule) except the last user, who has one; the metadata
    also lists `n_unreviewed` items nobody reviewed, and review texts have `review_words` words
    (the real file: about 1.69 M reviews of 63,001 items, 498,196 metadata records, texts of
    about 100 words; `FULL_SIZE`)."""
    rng = np.random.default_rng(seed)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    item_category = rng.integers(n_categories, size=n_items)
    items = [f"B{i:09d}" for i in range(n_items)]
    reviews = []
    for user in range(n_users):
        count = 1 if user == n_users - 1 else max(5, 1 + rng.poisson(reviews_per_user - 1))
        liked = np.flatnonzero(item_category == user % n_categories)
        picks = [rng.choice(liked) if len(liked) and rng.random() < 0.8
                 else rng.integers(n_items) for _ in range(count)]
        times = np.sort(rng.integers(1_200_000_000, 1_400_000_000, size=count))
        if count > 2:
            times[1] = times[2]                # two reviews at the same second
        reviews += [_review(user, items[item], int(when), review_words, rng)
                    for item, when in zip(picks, times)]
    with gzip.open(raw_dir / REVIEWS_FILE, "wt", encoding="utf-8") as out:
        for record in sorted(reviews, key=lambda r: r["asin"]):   # SNAP's order: by item
            out.write(json.dumps(record) + "\n")
    with gzip.open(raw_dir / META_FILE, "wt", encoding="utf-8") as out:
        for i, item in enumerate(items + [f"X{i:09d}" for i in range(n_unreviewed)]):
            category = int(item_category[i]) if i < n_items else 0
            out.write(_meta(item, category, i, rng) + "\n")
    return raw_dir


def _review(user: int, item: str, when: int, words: int, rng: np.random.Generator) -> dict:
    record = {"reviewerID": f"A{user:013X}", "asin": item,
              "reviewerName": _NAMES[user % len(_NAMES)],
              "helpful": [int(rng.integers(3)), int(rng.integers(3, 6))],
              "reviewText": " ".join(_TEXT[:words]),
              "overall": float(rng.integers(1, 6)), "summary": "Fine",
              "unixReviewTime": when,
              "reviewTime": time.strftime("%m %d, %Y", time.gmtime(when)).replace(" 0", " ")}
    if user % 7 == 3:
        del record["reviewerName"]            # SNAP omits it for some reviewers
    return record


def _meta(item: str, category: int, i: int, rng: np.random.Generator) -> str:
    path = ["Electronics", "Accessories & Supplies", f"Category {category} ★"]
    record = {"asin": item, "title": f"{_WORDS[i % len(_WORDS)]} {i}",
              "price": round(float(rng.uniform(1, 300)), 2),
              "imUrl": f"http://ecx.images-amazon.com/images/I/{item}.jpg",
              "related": {"also_bought": [f"B{(i + 1) % 97:09d}"]},
              "salesRank": {"Electronics": int(rng.integers(1, 10**6))}, "brand": "Acme",
              "categories": [["Electronics"], path] if i % 3 else [path]}
    if i % 5 == 2:
        del record["price"], record["brand"]  # optional keys SNAP often lacks
    text = repr(record)
    if i % 4 == 1:   # Python 2's repr: escapes for non-ASCII and u'' strings, as in SNAP's file
        text = text.replace("★", "\\u2605").replace("'title': '", "'title': u'")
    return text
