# Shared by bin/start and bin/test: make .venv and install Madoguchi into it when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
EXTRAS="${MADOGUCHI_EXTRAS:-}"
if [ ! -x .venv/bin/python ]; then
  echo "==> Python の仮想環境を作成しています (.venv)"
  "$PYTHON" -m venv .venv
fi
# The message classifier's pretrained word vectors (madoguchi/triage/model.py) come from the
# ja-ginza package, installed without its dependencies: only its vector files are read, and
# its own pins (spaCy, SudachiPy < 0.7) would otherwise bring ~290 MB and an older SudachiPy.
VECTORS="ja-ginza==5.3.0"
# Reinstall only when pyproject.toml (or the line above) changed since the last install.
STAMP=".venv/.madoguchi-installed${EXTRAS:+-$EXTRAS}"
HASH="$( (cat pyproject.toml; echo "$VECTORS") | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  echo "==> 依存パッケージをインストールしています"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
  .venv/bin/python -m pip install --quiet --no-deps "$VECTORS"
  echo "$HASH" > "$STAMP"
fi
