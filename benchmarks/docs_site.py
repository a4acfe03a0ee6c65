"""Build the docs site (mkdocs build --strict) and open every page in headless Chromium: does each load, does
every image decode?

The check `make docs-check` and CI run. Times the build and the browser check and prints both (what the docs
cost CI). Every page of mkdocs.yml's nav is opened from the built site, served on
127.0.0.1, as a frame of one harness page in one Chromium; once all have loaded the harness reports, per page,
whether its article rendered and which images decoded (naturalWidth > 0: a missing or corrupt PNG has none). Every PNG under docs/ must be shown on some page. Needs mkdocs (`pip
install -e '.[docs]'`) and Debian's `chromium` (apt-get install chromium); without Chromium the build is still
checked and the script says it skipped the browser. Then a real report (`rlvr compare` of three models) at
1280x800: its first screen must hold the findings and the pass@k chart, every figure drawn near its natural
size (benchmarks/report_screen.py); the screenshot is saved under --shots.
Usage: python benchmarks/docs_site.py [--site DIR] [--shots DIR]
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Runs in the harness page once every frame (and every image in it) has loaded: the window's load event waits
# for its iframes. Same origin (one local HTTP server), so the harness can read each frame's document.
CHECK_JS = """window.addEventListener('load', function () {
  var out = {};
  [].slice.call(document.querySelectorAll('iframe')).forEach(function (f) {
    var d = f.contentDocument, a = d && d.querySelector('article');
    out[f.dataset.page] = {loaded: !!a, article: !!a && a.textContent.trim().length > 0,
      h1: !!(a && a.querySelector('h1')),
      images: [].slice.call(d ? d.images : []).map(function (i) {
        return [i.getAttribute('src'), i.complete && i.naturalWidth > 0]; })};
  });
  document.title = 'CHECK' + JSON.stringify(out);
});"""


def nav_pages(nav: list) -> list[str]:
    """The markdown files mkdocs.yml's nav names, in order."""
    pages: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def built_html(site: Path, page: str) -> Path:
    stem = page.removesuffix(".md")
    return site / ("index.html" if stem == "index" else f"{stem}/index.html")


def browse(site: Path, pages: list[str]) -> dict[str, dict]:
    """Open every page at once, as iframes of one harness page served from `site`, in one headless Chromium."""
    frames = "".join(
        f'<iframe data-page="{page}" src="/{built_html(site, page).relative_to(site).as_posix()}"'
        f' width="1280" height="900"></iframe>'
        for page in pages
    )
    (site / "__check__.html").write_text(
        f"<html><head><title>-</title><script>{CHECK_JS}</script></head><body>{frames}</body></html>"
    )
    handler = functools.partial(_QuietHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
        flags += ["--disable-background-networking", "--disable-component-update"]
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        url = f"http://127.0.0.1:{server.server_address[1]}/__check__.html"
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=300
        ).stdout
        server.shutdown()
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0] if "<title>" in dom else ""
    reports = json.loads(html.unescape(title.removeprefix("CHECK"))) if title.startswith("CHECK") else {}
    return {page: reports.get(page, {"loaded": False}) for page in pages}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per request would bury the report
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", default=None, help="build into this directory (default: a temporary one)")
    parser.add_argument(
        "--shots", default="runs/docs-check", help="where the report check's report and screenshot go"
    )
    args = parser.parse_args()
    site = Path(args.site or tempfile.mkdtemp(prefix="rlvr-site-"))
    start = time.perf_counter()
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    build_s = time.perf_counter() - start
    if built.returncode != 0:
        print(built.stdout + built.stderr)
        print(f"mkdocs build --strict failed after {build_s:.1f}s")
        return 1
    print(f"mkdocs build --strict: {build_s:.1f}s")
    pages = nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    missing = [p for p in pages if not built_html(site, p).exists()]
    if missing:
        print(f"pages in the nav that were not built: {', '.join(missing)}")
        return 1
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.environ.get("CI") == "true":  # .ci/run installs it: a missing browser there is a failure
            print("chromium not installed (apt-get install chromium): CI needs the browser check")
            return 1
        print("chromium not installed (apt-get install chromium); skipping the browser check")
        return 0
    start = time.perf_counter()
    reports = browse(site, pages)
    check_s = time.perf_counter() - start
    failures = []
    shown: set[str] = set()
    for page, report in reports.items():
        images = report.get("images", [])
        bad = [src for src, decoded in images if not decoded]
        shown |= {Path(src).name for src, decoded in images if decoded}
        ok = report["loaded"] and report.get("article") and report.get("h1") and not bad
        print(f"{'ok  ' if ok else 'FAIL'} {page}: {len(images) - len(bad)}/{len(images)} images decoded")
        if not ok:
            failures.append(
                f"{page}: loaded={report['loaded']} article={report.get('article')} undecoded={bad}"
            )
    unshown = sorted(p.name for p in (ROOT / "docs").rglob("*.png") if p.name not in shown)
    if unshown:
        failures.append(f"images under docs/ that no page shows: {', '.join(unshown)}")
    print(f"browser check: {len(pages)} pages in {check_s:.1f}s")
    from report_screen import check as check_report  # the sibling script (benchmarks/ is on sys.path)

    failures += [f"report: {x}" for x in check_report(Path(args.shots))]
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
