"""Preprocessing time and peak memory on synthetic files of the real data sets' size.

    python -m apg.data.benchmark [amazon] [iaac] --dir /tmp/apg-sizing

For each data set: write synthetic raw files with the real one's counts and layout
(`amazon_fixture.FULL_SIZE`, `iaac_fixture.write_iaac_fixture(rows=EXPECTED_ROWS)`), then run
`python -m apg.data preprocess` on them in a fresh process and read its wall time and peak
resident memory. Writes `reports/tables/preprocessing.csv` / `.md`. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from apg.data.amazon_fixture import FULL_SIZE, write_amazon_files
from apg.data.iaac import EXPECTED_ROWS
from apg.data.iaac_fixture import write_iaac_fixture
from apg.reporting import write_table

WRITERS = {"amazon": lambda raw: write_amazon_files(raw, **FULL_SIZE),
           "iaac": lambda raw: write_iaac_fixture(raw, rows=EXPECTED_ROWS)}

# The child reports its own peak resident memory (Linux: ru_maxrss in KiB).
_CHILD = ("import resource, sys\n"
          "from apg.data.__main__ import main\n"
          "code = main(sys.argv[1:])\n"
          "print('peak_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
          "sys.exit(code)\n")


def measure(dataset: str, work: Path, params: Path) -> dict:
    """Write the full-size files of `dataset` under `work`, preprocess them in a child process;
    its wall seconds, peak memory, the raw files' size and the rows written."""
    raw, out = work / dataset / "raw", work / dataset / "processed"
    WRITERS[dataset](raw)
    start = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", _CHILD, "preprocess", dataset, "--raw",
                            str(raw), "--out", str(out), "--params", str(params)],
                           capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if child.returncode:
        raise RuntimeError(f"preprocessing {dataset} failed:\n{child.stderr}")
    peak_kib = int(child.stdout.split("peak_kib")[-1])
    schema = json.loads((out / "schema.json").read_text())
    return {"dataset": dataset, "raw_mb": sum(f.stat().st_size for f in raw.iterdir()) / 1e6,
            "rows": sum(schema["rows"].values()), "seconds": seconds,
            "peak_memory_mb": peak_kib * 1024 / 1e6, "cpus": os.cpu_count(),
            "machine": platform.machine()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.data.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="*", choices=list(WRITERS), default=list(WRITERS))
    parser.add_argument("--dir", type=Path, required=True, help="scratch folder for the files")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"),
                        help="its data: options are used, with check_counts off (synthetic)")
    parser.add_argument("--out", type=Path, default=Path("reports/tables/preprocessing"))
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.params.read_text())["data"] | {"check_counts": False}
    args.dir.mkdir(parents=True, exist_ok=True)
    params = args.dir / "params.yaml"
    params.write_text(yaml.safe_dump({"data": data}))
    table = pd.DataFrame([measure(dataset, args.dir, params) for dataset in args.datasets])
    write_table(table, args.out, floatfmt=".1f")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
