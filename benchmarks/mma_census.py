"""Which of MMAction2 1.2.0's 125 recognition configs ethoclip resolves, builds a model for,
and builds train/val/test dataloaders for; per family, then every failure by reason.

    python benchmarks/mma_census.py            # the table and the reasons
    python benchmarks/mma_census.py --configs  # and one line per config

Models are built without pretrained weights on the meta device (no memory, no init time).
Rerun after merging the model families: the model column is the one that moves.
"""

from __future__ import annotations

import argparse
import collections

from _common import Unavailable  # first: it puts the repository on sys.path

# isort: split
from tests.mma_census import census, families, reason


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", action="store_true", help="one line per config too")
    args = parser.parse_args()
    try:
        rows = census()
    except Unavailable as exc:
        raise SystemExit(f"cannot fetch MMAction2 1.2.0's wheel: {exc}") from None
    print(f"{'family':<14}{'configs':>8}{'resolve':>9}{'model':>7}{'pipelines':>11}")
    widths = (8, 9, 7, 11)
    totals = [0, 0, 0, 0]
    for name, *counts in families(rows):
        print(f"{name:<14}" + "".join(f"{c:>{w}}" for c, w in zip(counts, widths, strict=True)))
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
    print(f"{'all':<14}" + "".join(f"{c:>{w}}" for c, w in zip(totals, widths, strict=True)))
    crashes = [f for r in rows for f in r.failures() if f.startswith("CRASH")]
    print(f"\ncrashes (not refusals by name): {len(crashes)}")
    for text in crashes:
        print("  " + text[:200])
    print("\nreasons (configs):")
    counted = collections.Counter(reason(f) for r in rows for f in r.failures())
    for text, count in counted.most_common():
        print(f"{count:>4}  {text}")
    if args.configs:
        print()
        for row in rows:
            marks = "".join(
                "." if v == "ok" else "x" for v in (row.resolved, row.model, *row.loaders.values())
            )
            print(f"{marks:<6}{row.name}")


if __name__ == "__main__":
    main()
