"""One list of exact versions (constraints.txt) that make, conda and CI install with, in
agreement with pyproject.toml's ranges; and the package alone, beside torch, is usable."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def requirements() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"model": [Requirement(r) for r in project["dependencies"]],
            **{extra: [Requirement(r) for r in reqs]
               for extra, reqs in project["optional-dependencies"].items()}}


def constraints() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in (ROOT / "constraints.txt").read_text()
             .splitlines()]
    pins = [line.split("==") for line in lines if line]
    assert all(len(pin) == 2 for pin in pins), "every constraint is an exact pin"
    names = [name for name, _ in pins]
    assert len(names) == len(set(names)), "each package pinned once"
    return dict(pins)


def test_constraints_pin_every_requirement_inside_its_range():
    pins = constraints()
    needed = [r for reqs in requirements().values() for r in reqs]
    assert {r.name for r in needed} == set(pins), "constraints.txt pins exactly the requirements"
    for requirement in needed:
        assert requirement.specifier.contains(pins[requirement.name]), (
            f"{requirement.name}=={pins[requirement.name]} is outside {requirement}")


def test_the_model_code_needs_only_torch_and_numpy():
    assert {r.name for r in requirements()["model"]} == {"torch", "numpy"}


def test_make_and_conda_install_with_the_constraints():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-c constraints.txt", "-e .[kit,test]"]
    assert "python=3.11" in env["dependencies"]
    assert '-c constraints.txt -e ".[kit,test]"' in (ROOT / "Makefile").read_text()


def expose(distributions: list[str], folder: Path) -> None:
    """Symlink the installed files of these distributions (and what they require) into
    `folder`, so a venv that puts `folder` on its path sees them and nothing else."""
    seen, todo = set(), list(distributions)
    while todo:
        name = todo.pop()
        dist = importlib.metadata.distribution(name)
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        todo += [Requirement(r).name for r in dist.requires or []
                 if not Requirement(r).marker or Requirement(r).marker.evaluate()]
        for top in {Path(f).parts[0] for f in dist.files if not str(f).startswith("..")}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)


def test_the_wheel_installs_beside_torch_alone_and_trains_an_apg_tower(tmp_path):
    """pip, offline, finds the package's requirements met by torch and numpy alone; in that
    environment the layer trains, and the kit's stack (pandas) is absent."""
    source = tmp_path / "source"                 # a copy: the build leaves build/ behind it
    shutil.copytree(ROOT / "apg", source / "apg",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", tmp_path / "dist", source], check=True,
                   cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("apg-*.whl"))
    venv.create(tmp_path / "venv", with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    (tmp_path / "torch-only").mkdir()
    expose(["torch", "numpy"], tmp_path / "torch-only")
    (site / "torch_only.pth").write_text(str(tmp_path / "torch-only") + "\n")
    env = {**os.environ, "PIP_CONSTRAINT": "", "PIP_CONFIG_FILE": os.devnull}
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                    "--no-index", wheel], check=True, env=env)
    script = """
import importlib.util, torch
from apg.layers import APGLinear
from apg.tower import Tower
from apg.config import APGConfig
assert importlib.util.find_spec("pandas") is None
torch.manual_seed(0)
tower = Tower(12, [8, 4], variant="v5", apg=APGConfig(rank=2, overparam=8), condition_dim=3)
head = torch.nn.Linear(4, 1)
x, z, y = torch.randn(64, 12), torch.randn(64, 3), torch.randint(0, 2, (64,)).float()
optimizer = torch.optim.Adam([*tower.parameters(), *head.parameters()], lr=0.01)
losses = []
for _ in range(30):
    loss = torch.nn.functional.binary_cross_entropy_with_logits(head(tower(x, z)).squeeze(-1), y)
    optimizer.zero_grad(); loss.backward(); optimizer.step(); losses.append(loss.item())
assert losses[-1] < losses[0], losses
print("trained", losses[0], losses[-1])
"""
    out = subprocess.run([python, "-c", script], check=True, capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.stdout.startswith("trained")
