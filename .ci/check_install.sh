#!/usr/bin/env bash
# Install checks that need the package index (so they live here, not in the offline test suite):
#  1. `pip install .` keeps a torch already installed in range. A user's CUDA torch 2.11 is stood in for by its
#     metadata alone (a dist-info directory): pip's resolver reads nothing else, and a dry run installs nothing.
#  2. On Python 3.10 pip refuses the wheel with its own message (Requires-Python >= 3.11).
#  3. On Python 3.12 the wheel and its dependencies resolve (a dry run for that interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --upgrade pip 2>/dev/null
site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
mkdir -p "$site/torch-2.11.0.dist-info"
printf 'Metadata-Version: 2.1\nName: torch\nVersion: 2.11.0\n' > "$site/torch-2.11.0.dist-info/METADATA"
printf 'pip\n' > "$site/torch-2.11.0.dist-info/INSTALLER"
: > "$site/torch-2.11.0.dist-info/RECORD"
"$work/venv/bin/pip" install --quiet --dry-run --report "$work/report.json" . 2>/dev/null
"$work/venv/bin/python" - "$work/report.json" <<'PY'
import json, sys
names = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in json.load(open(sys.argv[1]))["install"]}
replaced = sorted(n for n in names if n == "torch" or n.startswith(("nvidia-", "triton")))
assert not replaced, f"pip install . would replace the installed torch 2.11: {replaced}"
print(f"install check: pip install . keeps torch 2.11 and adds {len(names)} packages (trl {names.get('trl')}, transformers {names.get('transformers')})")
PY
"$work/venv/bin/pip" wheel --quiet --no-deps -w "$work/wheel" . 2>/dev/null
if out=$("$work/venv/bin/pip" install --dry-run --no-deps --only-binary=:all: --python-version 3.10 --target "$work/t" "$work"/wheel/rlvr-*.whl 2>&1); then
  echo "install check: the wheel installed on Python 3.10"; exit 1
fi
grep -q "requires a different Python: 3.10.0 not in '>=3.11'" <<<"$out"
echo "install check: Python 3.10 refused: $(grep -o "requires a different Python.*" <<<"$out")"
# 3. The same wheel resolves for Python 3.12 (wheels only, nothing installed), beside a torch 2.12 in range.
"$work/venv/bin/pip" install --quiet --dry-run --only-binary=:all: --python-version 3.12 --target "$work/t312" \
  --report "$work/r312.json" "$work"/wheel/rlvr-*.whl "torch==2.12.0" 2>/dev/null
"$work/venv/bin/python" -c "
import json, sys
names = {i['metadata']['name'].lower(): i['metadata']['version'] for i in json.load(open(sys.argv[1]))['install']}
assert names.get('torch') == '2.12.0', names.get('torch')
print(f'install check: resolves on Python 3.12 with torch 2.12.0 ({len(names)} packages)')" "$work/r312.json"
