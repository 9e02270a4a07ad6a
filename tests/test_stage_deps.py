"""Every code file a DVC stage runs is among its deps, so `dvc repro` re-runs a stage when any
code it runs changes.

A stage runs the modules of its `python -m apg...` commands, the notebook `apg.pipeline`
executes for it, and every file of the `apg` package those import, directly or not (found
statically with `ast`, nothing is imported). Each of them must be a dep of the stage or lie in
a folder that is. The stages come from DVC itself, so `${...}` and `matrix:` are expanded
exactly as `dvc repro` expands them.
"""

from __future__ import annotations

import ast
import json
import posixpath
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import pytest
from dvc.repo import Repo

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "apg"


def pipeline_notebook(verb: str, args: list[str]) -> PurePosixPath:
    """The notebook `python -m apg.pipeline VERB ARGS...` executes (apg/pipeline.py's stage_*
    functions). A verb not listed here fails the stage's test: add the new verb here."""
    notebooks = {"train": "notebooks/train.ipynb",
                 "throughput": "notebooks/throughput.ipynb",
                 "efficiency": "notebooks/efficiency.ipynb"}
    if verb == "report":
        return PurePosixPath(f"notebooks/report_{args[0]}.ipynb")
    if verb not in notebooks:
        pytest.fail(f"`python -m apg.pipeline {verb}`: unknown verb {verb!r}; add the notebook it "
                    "executes to pipeline_notebook() in tests/test_stage_deps.py")
    return PurePosixPath(notebooks[verb])


# --- The import graph of the package, from the source alone ----------------------------------


def module_file(root: Path, name: str) -> PurePosixPath | None:
    """The file of the dotted module `name` under `root` (a package's __init__.py), relative to
    `root`; None when there is no such module (`name` may end in a name defined in a module)."""
    path = PurePosixPath(*name.split("."))
    for candidate in (path / "__init__.py", PurePosixPath(f"{path}.py")):
        if (root / candidate).is_file():
            return candidate
    return None


def files_run_by_import(root: Path, name: str) -> set[PurePosixPath]:
    """The files importing `name` runs: the __init__.py of each package above it, and its own."""
    parts = name.split(".")
    files = (module_file(root, ".".join(parts[:i])) for i in range(1, len(parts) + 1))
    return {file for file in files if file}


def notebook_source(path: Path) -> str:
    """The code cells of a notebook as one script, without IPython's `%` and `!` lines."""
    cells = json.loads(path.read_text())["cells"]
    lines = [line for cell in cells if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def imported_names(root: Path, file: PurePosixPath) -> set[str]:
    """The dotted names of package modules `file` may import, anywhere in it (inside functions
    too). For `from M import n` both M and M.n are given, as n may be a submodule or a name."""
    path = root / file
    source = notebook_source(path) if file.suffix == ".ipynb" else path.read_text()
    package = list(file.parent.parts)           # what `from . import x` is relative to
    names = set()
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == PACKAGE}


def import_closure(root: Path, start: Iterable[PurePosixPath]) -> set[PurePosixPath]:
    """The `start` files (paths relative to `root`) and every file of the package under `root`
    that they import, directly or through other files."""
    seen: set[PurePosixPath] = set()
    todo = list(start)
    while todo:
        file = todo.pop()
        if file not in seen:
            seen.add(file)
            for name in imported_names(root, file):
                todo.extend(files_run_by_import(root, name))
    return seen


# --- The stages and what they run ---------------------------------------------------------------


class Stage(NamedTuple):
    name: str                    # as `dvc repro` addresses it, "train_table2_base@wdl"
    commands: list[str]
    deps: list[PurePosixPath]    # relative to the project root
    params: set[str]             # the params.yaml keys it depends on


def dep_paths(stage, root: Path) -> list[PurePosixPath]:
    """A DVC stage's deps as normalised paths relative to `root` (they are relative to its
    wdir)."""
    wdir = Path(stage.wdir).relative_to(root).as_posix()
    return [PurePosixPath(posixpath.normpath(posixpath.join(wdir, dep.def_path)))
            for dep in stage.deps]


def read_stages(root: Path) -> list[Stage]:
    """The pipeline's stages, `${...}` and `matrix:` expanded by DVC."""
    with Repo(str(root)) as repo:
        return [Stage(stage.addressing,
                      stage.cmd if isinstance(stage.cmd, list) else [stage.cmd],
                      dep_paths(stage, root),
                      {key for dep in stage.deps for key in getattr(dep, "params", None) or []})
                for stage in repo.index.stages if stage.cmd]


def python_modules(command: str) -> Iterator[tuple[str, list[str]]]:
    """(module, its arguments) for each `python -m module args...` in a shell command."""
    segment: list[str] = []
    for token in [*shlex.split(command), "&&"]:
        if token not in ("&&", "||", ";", "|"):
            segment.append(token)
            continue
        for i, word in enumerate(segment[:-2]):
            if Path(word).name.startswith("python") and segment[i + 1] == "-m":
                yield segment[i + 2], segment[i + 3:]
                break
        segment = []


def entry_points(root: Path, command: str) -> set[PurePosixPath]:
    """The package files a command runs itself: each `python -m apg...` module (a package's
    __main__.py), the __init__.py of the packages above it, and the notebook apg.pipeline
    executes."""
    files = set()
    for module, args in python_modules(command):
        if module.split(".")[0] != PACKAGE:
            continue
        file = module_file(root, module)
        assert file, f"`python -m {module}`: no such module under {root}"
        files |= files_run_by_import(root, f"{module}.__main__" if file.name == "__init__.py"
                                     else module)
        if module == f"{PACKAGE}.pipeline":
            files.add(pipeline_notebook(args[0], args[1:]))
    return files


def covered(file: PurePosixPath, deps: list[PurePosixPath]) -> bool:
    """Whether a dep is `file` or a folder above it."""
    return any(dep == file or dep in file.parents for dep in deps)


STAGES = read_stages(ROOT)


@pytest.mark.parametrize("stage", STAGES, ids=[stage.name for stage in STAGES])
def test_stage_deps_cover_the_code_it_runs(stage):
    """The stage's entry points and all they import are among its deps (a file or a folder)."""
    entries = set().union(*(entry_points(ROOT, command) for command in stage.commands))
    assert entries, (f"stage {stage.name!r} runs no `python -m {PACKAGE}...`: {stage.commands}; "
                     "teach entry_points() in tests/test_stage_deps.py how it runs code")
    missing = sorted(str(file) for file in import_closure(ROOT, entries)
                     if not covered(file, stage.deps))
    assert not missing, (f"stage {stage.name!r} runs code that is not among its deps; add to "
                         "its deps in dvc.yaml:\n" + "\n".join(f"  - {f}" for f in missing))


def stages_named(prefix: str) -> list[Stage]:
    return [stage for stage in STAGES if stage.name.split("@")[0] == prefix]


def test_a_base_run_depends_on_no_apg_or_condition_param():
    """`dvc exp run -S apg.rank=16` must not retrain a Base run: nothing in `apg:` or
    `condition:` reaches it (apg.pipeline.train_parameters gives it neither section)."""
    base = stages_named("train_table2_base")
    assert base
    for stage in base:
        model = stage.name.split("@")[1]
        assert stage.params == {"seeds", "model", "train", f"learning_rates.table2.{model}.base"}


def test_apg_runs_depend_on_the_apg_and_condition_sections():
    for stage in stages_named("train_table2_apg") + stages_named("train_table4"):
        assert {"apg", "condition", "seeds", "model", "train"} <= stage.params
    for stage in stages_named("train_table4"):
        assert "table4.condition" in stage.params


def test_table6_baselines_depend_on_their_setting_and_no_apg_or_condition_param():
    """MMoE and STAR read only their domain's field of Table 6's settings
    (apg.pipeline.run_spec): `dvc exp run -S apg.rank=16` must not retrain them."""
    stages = stages_named("train_table6_baselines")
    assert len(stages) == 4
    for stage in stages:
        method, setting = stage.name.split("@")[1].split("-")
        assert stage.params == {"seeds", "model", "train", "table6.multidomain",
                                f"table6.settings.{setting}",
                                f"learning_rates.table6.{method}.{setting}"}
    for stage in stages_named("train_table6_apg"):
        assert {"apg", "condition", "table6.apg_version", "table6.model"} <= stage.params


def test_table5_depends_on_nothing_from_training():
    [stage] = stages_named("efficiency")
    assert stage.params == {"efficiency"}
    assert not [dep for dep in stage.deps if dep.parts[0] in ("metrics", "data")]


# --- The import-graph helpers themselves, on a package made for the test ----------------------


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write `files` (path relative to `root`: text), making their folders."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_import_closure_follows_every_kind_of_import(tmp_path):
    """Absolute, aliased, from- and relative imports, inside functions too, with the packages'
    __init__.py; names that are not modules, modules never imported and the standard library
    are left out."""
    write_files(tmp_path, {
        "apg/__init__.py": "",
        "apg/a.py": "import os\nfrom .b import x\nimport apg.g as z\n",
        "apg/b.py": "import json\n\ndef x():\n    import apg.c\n    from apg.c import d\n",
        "apg/c/__init__.py": "",
        "apg/c/d.py": "from . import e\nfrom ..f import name_in_f\n",
        "apg/c/e.py": "",
        "apg/f.py": "name_in_f = 1\n",
        "apg/g/__init__.py": "",
        "apg/g/h.py": "",                   # in an imported package, but never imported
        "apg/unused.py": "",
    })
    assert import_closure(tmp_path, [PurePosixPath("apg/a.py")]) == {
        PurePosixPath(p) for p in ("apg/a.py", "apg/__init__.py", "apg/b.py",
                                   "apg/c/__init__.py", "apg/c/d.py", "apg/c/e.py", "apg/f.py",
                                   "apg/g/__init__.py")}


def test_import_closure_reads_the_code_cells_of_a_notebook(tmp_path):
    """A notebook's code cells count, its markdown cells and `%` / `!` lines do not."""
    cells = [{"cell_type": "markdown", "source": ["import apg.b\n"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip list\n",
                                              "from apg import a\n"]}]
    write_files(tmp_path, {"apg/__init__.py": "", "apg/a.py": "", "apg/b.py": "",
                           "notebooks/n.ipynb": json.dumps({"cells": cells})})
    assert import_closure(tmp_path, [PurePosixPath("notebooks/n.ipynb")]) == {
        PurePosixPath(p) for p in ("notebooks/n.ipynb", "apg/__init__.py", "apg/a.py")}
