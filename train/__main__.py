"""`python -m rlvr.train RECIPE.yaml [k=v ...]`, the form `accelerate launch -m rlvr.train` runs."""

import sys

from rlvr.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
