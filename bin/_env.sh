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
# Reinstall only when pyproject.toml changed since the last install.
STAMP=".venv/.madoguchi-installed${EXTRAS:+-$EXTRAS}"
HASH="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  echo "==> 依存パッケージをインストールしています"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
  echo "$HASH" > "$STAMP"
fi
