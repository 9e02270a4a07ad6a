"""The README: its tables are the committed ones (not typed in), its example of APG in one's
own model runs as printed, and a merged v5 tower exports (torch.export) with the outputs of
the tower it came from."""

import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from apg import readme
from apg.config import APGConfig
from apg.tower import Tower

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_shows_the_committed_ledger_and_tables():
    """Refresh with `python -m apg.readme` after a reference run."""
    text = README.read_text()
    for start, end, block in readme.blocks():
        assert block in text, f"the README's block {start!r} is not reports/tables' table"


def test_a_readme_without_a_tables_markers_is_refused(tmp_path):
    (tmp_path / "README.md").write_text("# no blocks\n")
    with pytest.raises(ValueError, match="has no block"):
        readme.update(tmp_path / "README.md")


def test_the_readme_blocks_show_the_paper_beside_ours():
    block = readme.table_block("table6", pd.DataFrame(
        [{"method": "apg", "setting": "fg", "auc_mean": 81.1, "auc_std": 0.1,
          "delta_vs_base": -0.5, "p_value": 0.000123, "memory_mb": 0.01, "paper_auc": 79.58,
          "paper_memory": 0.24, "n_seeds": 5}]))
    assert "| apg | fg | 81.10 | 0.10 | -0.50 | 0.00012 | 0.01 | 79.58 | 0.24 |" in block
    assert "n_seeds" not in block


def readme_example() -> str:
    """The python block under the README's heading "Add APG to your own model"."""
    section = README.read_text().split("## Add APG to your own model", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_trains_and_serves_a_merged_tower():
    namespace = {}
    exec(readme_example(), namespace)
    model, served, x, z = (namespace[k] for k in ("model", "served", "x", "z"))
    assert model.l1.version == "v5" and served.l1.version == served.l2.version == "v4"
    assert not hasattr(served.l1, "U_l")                    # U = U^l U^r stored once
    model.eval()
    with torch.no_grad():
        assert torch.allclose(served(x, z), model(x, z), atol=1e-5)
    assert torch.isfinite(namespace["loss"])


def test_a_merged_v5_tower_is_v4_and_exports_with_the_unmerged_outputs():
    torch.manual_seed(0)
    tower = Tower(24, [16, 8], variant="v5", apg=APGConfig(rank=4, overparam=16),
                  condition_dim=6).eval()
    merged = tower.merge_for_inference()
    assert merged.variant == "v4" and [layer.version for layer in merged.layers] == ["v4"] * 2
    assert [layer.version for layer in tower.layers] == ["v5", "v5"]    # the original is kept
    h, z = torch.randn(32, 24), torch.randn(32, 6)
    exported = torch.export.export(merged, (h, z)).module()     # (TorchScript is deprecated)
    other = torch.randn(32, 24), torch.randn(32, 6)           # not the inputs it was traced on
    with torch.no_grad():
        for inputs in ((h, z), other):
            assert torch.allclose(exported(*inputs), tower(*inputs), atol=1e-5)
