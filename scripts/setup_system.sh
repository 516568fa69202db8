#!/usr/bin/env bash
# System packages blocks-rx uses, from Debian: R with seriation and jsonlite (the R bridge and
# the tests' independent oracle), Noto fonts (figures that show text in many scripts); then
# rpy2 into the venv. Idempotent: installs only what is missing. Without root or sudo it says
# so in one line and carries on: blocks-rx works without R (its hclust twin is exact).
set -u
PY=${1:-.venv/bin/python}

have_r() { command -v Rscript >/dev/null 2>&1 && Rscript -e 'suppressMessages({library(seriation); library(jsonlite)})' >/dev/null 2>&1; }
have_fonts() { [ -d /usr/share/fonts/truetype/noto ]; }

if ! have_r || ! have_fonts; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: R and/or fonts not installed (needs root/sudo and apt-get: apt-get install r-base-core r-base-dev r-cran-seriation r-cran-jsonlite fonts-noto-core); blocks-rx works without them, R-backed tests are skipped."
    exit 0
  fi
  echo "setup: installing R, r-cran-seriation, r-cran-jsonlite and fonts-noto-core with apt-get (once)..."
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null && \
    $SUDO apt-get install -y -qq --no-install-recommends r-base-core r-base-dev r-cran-seriation \
      r-cran-jsonlite fonts-noto-core >/dev/null \
    || { echo "setup: apt-get could not install R; blocks-rx works without it, R-backed tests are skipped."; exit 0; }
fi

# rpy2 3.6 needs R >= 4.5; Debian's R 4.2 needs rpy2 >=3.5.17,<3.6 (built against r-base-dev).
if have_r && ! "$PY" -c 'import rpy2.robjects' >/dev/null 2>&1; then
  "$PY" -m pip install -q 'rpy2>=3.5.17,<3.6' 2>&1 | grep -v '^WARNING' || true
  "$PY" -c 'import rpy2.robjects' >/dev/null 2>&1 || echo "setup: rpy2 did not install; the R bridge is unavailable (R itself is still used by the tests through Rscript)."
fi
exit 0
