"""The README's example of APG in one's own model runs as printed, and a merged v5 tower
exports (torch.export) with the outputs of the tower it came from."""

import re
from pathlib import Path

import torch

from apg.config import APGConfig
from apg.tower import Tower

README = Path(__file__).resolve().parents[1] / "README.md"


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


def test_a_merged_v5_tower_exports_with_the_unmerged_outputs():
    torch.manual_seed(0)
    tower = Tower(24, [16, 8], variant="v5", apg=APGConfig(rank=4, overparam=16),
                  condition_dim=6).eval()
    merged = tower.merge_for_inference()
    h, z = torch.randn(32, 24), torch.randn(32, 6)
    exported = torch.export.export(merged, (h, z)).module()     # (TorchScript is deprecated)
    other = torch.randn(32, 24), torch.randn(32, 6)           # not the inputs it was traced on
    with torch.no_grad():
        for inputs in ((h, z), other):
            assert torch.allclose(exported(*inputs), tower(*inputs), atol=1e-5)
