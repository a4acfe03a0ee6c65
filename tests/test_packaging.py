"""Every directory of files under an installed package root is a listed package: setuptools otherwise warns
"Package would be ignored" at every install (and a later setuptools leaves the files out)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_directory_with_files_is_a_listed_package():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(tool["packages"])
    unlisted = []
    for package, directory in tool["package-dir"].items():
        for sub in sorted((ROOT / directory).rglob("*")):
            if not sub.is_dir() or sub.name == "__pycache__" or not any(f.is_file() for f in sub.iterdir()):
                continue
            name = ".".join([package, *sub.relative_to(ROOT / directory).parts])
            if name not in listed:
                unlisted.append(name)
    assert unlisted == []
