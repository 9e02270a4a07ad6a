"""The README's generated blocks: the claims ledger and Tables 2, 4 and 6 with the paper's
numbers beside ours, each written from a committed table in reports/tables/ between two
markers, so no number in the README is typed in. After a reference run:

    python -m apg.readme

`tests/test_readme.py` checks that the README holds exactly these blocks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from apg.reporting import to_markdown

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "reports" / "tables"

# Each table's block: the columns a reader compares (the report has the rest).
TABLE_COLUMNS = {
    "claims": ["claim", "paper", "ours", "verdict"],
    "table2": ["model", "variant", "auc_mean", "auc_std", "delta", "ci_low", "ci_high",
               "p_value", "paper_auc", "paper_delta"],
    "table4": ["version", "auc_mean", "auc_std", "delta_vs_base", "ci_low", "ci_high",
               "p_value", "paper_auc", "paper_delta_vs_base"],
    "table6": ["method", "setting", "auc_mean", "auc_std", "delta_vs_base", "p_value",
               "memory_mb", "paper_auc", "paper_memory"],
}


def markers(name: str) -> tuple[str, str]:
    return (f"<!-- {name}: written by `python -m apg.readme`, from reports/tables/{name}.csv -->",
            f"<!-- end of {name} -->")


def table_block(name: str, table: pd.DataFrame) -> str:
    """One table's README block: its reader's columns, between its markers."""
    start, end = markers(name)
    shown = table[TABLE_COLUMNS[name]]
    if "p_value" in shown:
        shown = shown.assign(p_value=table["p_value"].map(lambda p: "" if pd.isna(p)
                                                          else f"{p:.2g}"))
    return "\n".join([start, to_markdown(shown).rstrip("\n"), end])


def blocks(tables_dir: Path = TABLES) -> list[tuple[str, str, str]]:
    """(start marker, end marker, block) for the ledger and every table, from `tables_dir`."""
    return [(*markers(name), table_block(name, pd.read_csv(tables_dir / f"{name}.csv")))
            for name in TABLE_COLUMNS]


def update(readme: Path, tables_dir: Path = TABLES) -> None:
    """Replace each block of the README (between its markers) with the committed table's."""
    text = readme.read_text()
    for start, end, block in blocks(tables_dir):
        if start not in text or end not in text:
            raise ValueError(f"{readme} has no block {start!r} ... {end!r}: add both markers "
                             "where the table should go, then run python -m apg.readme")
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    readme.write_text(text)


if __name__ == "__main__":
    update(ROOT / "README.md")
