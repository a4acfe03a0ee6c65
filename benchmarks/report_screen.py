"""Open a real `rlvr compare` report in headless Chromium at 1280x800 and check its first screen: does it hold
the findings and the pass@k chart, and is every figure drawn near its natural size (legible at 100% zoom)?

Part of `make docs-check` (benchmarks/docs_site.py runs it). The report compares three models made on the
fly as counts CSVs (48 problems, n = 64, a base, an RL-like model that leads at pass@1 and loses problems, a
distilled-like one that solves more), so the findings list is as long as the demo's. The page's layout is read
by a script in the page (element positions, each image's drawn and natural width) and written to the title,
which `--dump-dom` returns; `--screenshot` saves the first screen. Needs Debian's `chromium`.
Usage: python benchmarks/report_screen.py [--out DIR]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

WIDTH, HEIGHT = 1280, 800
# A figure drawn below this share of its natural width has text below ~11 px (10 pt at 110 dpi is 15 px).
MIN_SCALE = 0.7
LAYOUT_JS = """<script>window.addEventListener('load', function () {
  function box(e) { if (!e) return null; var r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }
  var lead = document.querySelector('#lead');
  var out = {findings: box(lead && lead.querySelector('.findings')),
    findings_items: lead ? lead.querySelectorAll('.findings li').length : 0,
    chart: box(lead && lead.querySelector('img')),
    chart_alt: lead && lead.querySelector('img') ? lead.querySelector('img').alt : null,
    images: [].slice.call(document.images).map(function (i) {
      return {alt: i.alt, natural: i.naturalWidth, drawn: i.getBoundingClientRect().width}; }),
    glossary: !!document.getElementById('glossary')};
  document.title = 'LAYOUT' + JSON.stringify(out);
});</script>"""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
]


def browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_counts(directory: Path) -> list[Path]:
    """Three models' counts on the same 48 problems, n = 64, drawn from a fixed seed."""
    rng = random.Random(0)
    rates = [rng.choice([0.0, 0.02, 0.1, 0.3, 0.6, 0.9]) for _ in range(48)]
    models = {
        "base": rates,
        "rl": [0.0 if r <= 0.02 and i % 2 else min(1.0, r * 1.6) for i, r in enumerate(rates)],
        "distilled": [max(r, 0.4) for r in rates],
    }
    paths = []
    for label, model in models.items():
        path = directory / f"{label}.csv"
        rows = [f"{i},64,{sum(rng.random() < r for _ in range(64))}" for i, r in enumerate(model)]
        path.write_text("problem,n,correct\n" + "\n".join(rows) + "\n")
        paths.append(path)
    return paths


def build_report(out: Path) -> Path:
    inputs = write_counts(out)
    subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "compare", *map(str, inputs), "--labels", "base,rl,distilled"]
        + ["--out", str(out / "report"), "--resamples", "200"],
        check=True,
        capture_output=True,
    )
    return out / "report" / "report.html"


def layout(page: Path) -> dict:
    """The page's layout at 1280x800, as the script in the page measured it."""
    checked = page.with_name("report.layout.html")
    checked.write_text(page.read_text().replace("</body>", LAYOUT_JS + "</body>"))
    dom = subprocess.run(
        [browser(), *FLAGS, "--dump-dom", checked.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0] if "<title>" in dom else ""
    return json.loads(html.unescape(title.removeprefix("LAYOUT"))) if title.startswith("LAYOUT") else {}


def problems(found: dict) -> list[str]:
    """What is wrong with the first screen and the figures; empty when all is well."""
    if not found:
        return ["the page reported no layout (did it load?)"]
    out = []
    findings, chart = found.get("findings"), found.get("chart")
    if not findings or found.get("findings_items", 0) == 0:
        out.append("no findings in the report's lead section")
    elif findings["top"] < 0 or findings["bottom"] > HEIGHT:
        out.append(
            f"the findings span y = {findings['top']:.0f}..{findings['bottom']:.0f}, not within {HEIGHT}"
        )
    if not chart or not (found.get("chart_alt") or "").startswith("pass@k"):
        out.append("no pass@k chart in the report's lead section")
    elif chart["bottom"] > HEIGHT or chart["right"] > WIDTH:
        out.append(
            f"the pass@k chart ends at x = {chart['right']:.0f}, y = {chart['bottom']:.0f}: off the first screen"
        )
    for image in found.get("images", []):
        if image["natural"] == 0:
            out.append(f"figure {image['alt']!r} did not decode")
        elif image["drawn"] < MIN_SCALE * image["natural"]:
            out.append(
                f"figure {image['alt']!r} is drawn at {image['drawn']:.0f} of its {image['natural']} px: text "
                "too small at 100% zoom"
            )
    if not found.get("glossary"):
        out.append("no glossary section")
    return out


def check(out: Path) -> list[str]:
    """Build the report into `out`, check its layout, save the first screen as out/report-first-screen.png."""
    out.mkdir(parents=True, exist_ok=True)
    page = build_report(out)
    found = layout(page)
    shot = out / "report-first-screen.png"
    subprocess.run(
        [browser(), *FLAGS, f"--screenshot={shot.resolve()}", page.resolve().as_uri()],
        capture_output=True,
        timeout=120,
    )
    failures = problems(found)
    if not shot.exists():
        failures.append("no screenshot was written")
    print(
        f"report first screen ({WIDTH}x{HEIGHT}): {found.get('findings_items', 0)} findings, chart "
        f"{found.get('chart')}; screenshot {shot}"
    )
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/report_screen", help="where the report and the screenshot go")
    args = parser.parse_args()
    if not browser():
        print("chromium not installed (apt-get install chromium); skipping the report check")
        return 0
    failures = check(Path(args.out))
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
