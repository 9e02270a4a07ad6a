"""Command line: fetch a data set, or preprocess it into parquet splits.

    python -m apg.data download movielens-1m --out data/raw/movielens-1m
    python -m apg.data preprocess movielens-1m --raw data/raw/movielens-1m \\
        --out data/processed/movielens-1m [--params params.yaml]

`download fixture --out DIR` writes the synthetic fixture's raw files instead. With --params,
the preprocess options come from the file's `data:` section; each data set reads its own
(`apg.data.preprocess_dataset`; a `dataset` key there is the pipeline's and is ignored here).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from apg.data import (DATASETS, FIXTURE, DataError, download, get_dataset, preprocess_dataset,
                      write_fixture)


def read_options(params: Path) -> dict:
    """The preprocess options in the `data:` section of a params.yaml file."""
    try:
        content = yaml.safe_load(params.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read {params}: {exc}") from None
    section = (content.get("data") or {}) if isinstance(content, dict) else None
    if not isinstance(section, dict):
        raise DataError(f"{params}: `data:` must be a mapping of preprocess options")
    return {key: value for key, value in section.items() if key != "dataset"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apg.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="fetch and verify a data set's source files")
    fetch.add_argument("dataset", choices=[*DATASETS, FIXTURE])
    fetch.add_argument("--out", type=Path, required=True, help="raw directory to fill")
    fetch.add_argument("--cache", type=Path, default=None,
                       help="archive cache (default: $APG_KIT_CACHE or the user cache)")
    fetch.add_argument("--timeout", type=float, default=30, help="seconds per request")
    prep = commands.add_parser("preprocess", help="raw files -> parquet splits + schema.json")
    prep.add_argument("dataset", choices=[*DATASETS, FIXTURE])
    prep.add_argument("--raw", type=Path, required=True, help="raw directory")
    prep.add_argument("--out", type=Path, required=True, help="processed directory to write")
    prep.add_argument("--params", type=Path, default=None, help="params.yaml with a data: section")
    args = parser.parse_args(argv)
    try:
        if args.command == "download" and args.dataset == FIXTURE:
            write_fixture(args.out)
            print(f"fixture: synthetic raw files in {args.out}")
        elif args.command == "download":
            download(args.dataset, args.out, args.cache, args.timeout)
            print(f"{args.dataset}: source files in {args.out}\n"
                  f"{get_dataset(args.dataset).licence}")
        else:
            options = read_options(args.params) if args.params else {}
            start = time.perf_counter()
            schema = preprocess_dataset(args.dataset, args.raw, args.out, **options)
            print(f"{args.dataset}: {schema['rows']} rows, positive rate "
                  f"{schema['positive_rate']}, written to {args.out} "
                  f"in {time.perf_counter() - start:.1f} s")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
