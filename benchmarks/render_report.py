"""Render report.html in headless Chromium and save a screenshot: do the embedded figures draw?

Builds the comparison of the reference data (tests/data/reference, copied from ../shared/reference), times `rlvr compare` against reading
the same two CSVs with the standard library (the floor any report costs), then screenshots the page and
checks in the browser that every figure decoded. Needs Debian's `chromium` (apt-get install chromium);
without it the script says so and exits 0.
Usage: python benchmarks/render_report.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "reference"
INPUTS = [
    REFERENCE / "math500_qwen2.5-7b-base_n128.csv",
    REFERENCE / "math500_simplerl-zoo-qwen2.5-7b_n128.csv",
]
CHECK_JS = (
    "<script>window.onload=function(){var i=[].slice.call(document.images);"
    "document.title='figures:'+i.length+':decoded:'+i.filter(function(x){return x.naturalWidth>0}).length;}</script>"
)


def chromium(*args: str) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/render_report")
    args = parser.parse_args()
    out = Path(args.out)
    if not all(p.exists() for p in INPUTS):
        print(f"reference data not found under {REFERENCE}; skipping")
        return 0
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "compare",
            *map(str, INPUTS),
            "--labels",
            "base,simplerl",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for path in INPUTS:
        with path.open() as f:
            list(csv.DictReader(f))
    floor = time.perf_counter() - start
    print(f"rlvr compare (500 problems x 2 models, n=128, 1000 bootstrap resamples): {ours:.2f}s")
    print(f"baseline, reading the two CSVs only: {floor * 1000:.1f}ms; ratio {ours / floor:.0f}x")
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        print("chromium not installed (apt-get install chromium); skipping the render check")
        return 0
    page = out / "report.checked.html"
    page.write_text((out / "report.html").read_text().replace("</body>", CHECK_JS + "</body>"))
    dom = chromium("--dump-dom", page.resolve().as_uri()).stdout
    title = dom.split("<title>")[1].split("</title>")[0] if "<title>" in dom else ""
    shot = out / "report.png"
    chromium(
        f"--screenshot={shot.resolve()}", "--window-size=1280,2400", (out / "report.html").resolve().as_uri()
    )
    print(f"browser says {title}; screenshot {shot} ({shot.stat().st_size if shot.exists() else 0} bytes)")
    _, total, _, decoded = title.split(":") if title.startswith("figures:") else ("", "0", "", "-1")
    return 0 if total == decoded and int(total) >= 3 and shot.exists() else 1


if __name__ == "__main__":
    sys.exit(main())
