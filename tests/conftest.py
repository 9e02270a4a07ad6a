"""Shared fixtures: a small synthetic MovieLens-like data set, preprocessed once per session."""

from pathlib import Path

import pytest

from apg.data import ensure_fixture
from apg.data.batches import load_schema, load_split


@pytest.fixture(scope="session")
def processed_fixture(tmp_path_factory) -> Path:
    return ensure_fixture(tmp_path_factory.mktemp("fixture") / "processed")


@pytest.fixture(scope="session")
def schema(processed_fixture) -> dict:
    return load_schema(processed_fixture)


@pytest.fixture(scope="session")
def splits(processed_fixture) -> dict:
    return {name: load_split(processed_fixture, name) for name in ("train", "valid", "test")}
