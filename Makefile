# Two commands do everything on a fresh machine (see README):
#   make repro   create .venv if missing, install the pinned stack, run the pipeline (dvc repro)
#   make test    the same set-up, then the whole test suite (pytest, nbval included)
# and one more for a taste in minutes:
#   make quick   every stage on MovieLens-100K, one seed, in a copy under .profiles/quick
# every table on each of the paper's data sets whose raw files are present (reports/paper.ipynb):
#   make paper
# and the validation sweeps that chose the condition, K, P and the learning rates (reports/tuning/),
# and the robustness check of Table 2's gains (reports/robustness/), both outside dvc repro:
#   make tune
#   make robustness

PYTHON ?= python3
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: repro test quick paper tune robustness notebooks

$(VENV)/installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "apg-kit needs Python >= 3.11, found " + sys.version.split()[0]'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[kit,test]"
	touch $@

repro: $(VENV)/installed
	dvc repro

test: $(VENV)/installed
	pytest

quick: $(VENV)/installed
	python -m apg.pipeline profile quick

paper: $(VENV)/installed
	python -m apg.paper_profile

tune: $(VENV)/installed
	dvc repro preprocess
	python -m apg.tune condition
	python -m apg.tune rank
	python -m apg.tune learning-rate

robustness: $(VENV)/installed
	dvc repro report_table2
	python -m apg.robustness
	dvc repro

# Re-record the outputs stored in notebooks/ (what `pytest --nbval` compares against).
notebooks: $(VENV)/installed
	python -m apg.pipeline record-notebooks
