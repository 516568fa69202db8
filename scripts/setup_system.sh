#!/usr/bin/env bash
# System packages blocks-rx uses, from Debian: R with seriation and jsonlite (the R bridge and
# the tests' independent oracle), Noto fonts and WenQuanYi Micro Hei (figures that show text in
# many scripts, CJK included), chromium (the explorer's tests open the page in it); then rpy2 into the venv, and the blocksrx R package
# (r_scripts/blocksrx) into R. Idempotent: installs only what is missing or changed. Without
# root or sudo it says so in one line and carries on: blocks-rx works without R (its hclust
# twin is exact).
set -u
PY=${1:-.venv/bin/python}

have_r() { command -v Rscript >/dev/null 2>&1 && Rscript -e 'suppressMessages({library(seriation); library(jsonlite)})' >/dev/null 2>&1; }
have_fonts() {
  [ -d /usr/share/fonts/truetype/noto ] && [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]
}
have_chromium() { command -v chromium >/dev/null 2>&1; }

if ! have_r || ! have_fonts || ! have_chromium; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    # The steps below still run where R is already there (only fonts missing).
    echo "setup: R, fonts or chromium not installed (needs root/sudo and apt-get: apt-get install r-base-core r-base-dev r-cran-seriation r-cran-jsonlite fonts-noto-core fonts-wqy-microhei chromium); blocks-rx works without them, R-backed and browser tests are skipped."
  else
    echo "setup: installing R, r-cran-seriation, r-cran-jsonlite, fonts-noto-core, fonts-wqy-microhei and chromium with apt-get (once)..."
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null && \
      $SUDO apt-get install -y -qq --no-install-recommends r-base-core r-base-dev r-cran-seriation \
        r-cran-jsonlite fonts-noto-core fonts-wqy-microhei chromium >/dev/null 2> >(grep -v '^debconf: delaying' >&2) \
      || echo "setup: apt-get could not install R and the fonts; blocks-rx works without them, R-backed tests are skipped."
  fi
fi

# rpy2 3.6 needs R >= 4.5; Debian's R 4.2 needs rpy2 >=3.5.17,<3.6 (built against r-base-dev).
if have_r && ! "$PY" -c 'import rpy2.robjects' >/dev/null 2>&1; then
  "$PY" -m pip install -q 'rpy2>=3.5.17,<3.6' 2>&1 | grep -v '^WARNING' || true
  "$PY" -c 'import rpy2.robjects' >/dev/null 2>&1 || echo "setup: rpy2 did not install; the R bridge is unavailable (R itself is still used by the tests through Rscript)."
fi

# The blocksrx R package, installed when missing or when its sources changed since the last
# install: a hash of them is kept in the installed package's folder. Into the site library
# when it is writable (root), else into R_LIBS_USER (created).
install_blocksrx() {
  local src lib hash stamp log
  src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/r_scripts/blocksrx"
  [ -f "$src/DESCRIPTION" ] || return 0
  hash=$(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)
  hash=${hash%% *}
  lib=$(Rscript -e 'for (l in c("/usr/local/lib/R/site-library", Sys.getenv("R_LIBS_USER"))) {
      if (nzchar(l) && (dir.exists(l) || dir.create(l, recursive = TRUE, showWarnings = FALSE)) &&
          file.access(l, 2) == 0) { cat(normalizePath(l)); break } }' 2>/dev/null)
  if [ -z "$lib" ]; then
    echo "setup: no writable R library for the blocksrx R package (set R_LIBS_USER); read_blocks.R works without it."
    return 0
  fi
  stamp="$lib/blocksrx/blocks-rx-source.sha256"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && return 0
  if log=$(R CMD INSTALL -l "$lib" "$src" 2>&1); then
    echo "$hash" > "$stamp"
    echo "setup: installed the blocksrx R package"
  else
    echo "setup: the blocksrx R package did not install (R CMD INSTALL -l $lib $src: $(echo "$log" | grep -m1 -i 'error' || echo "$log" | tail -n1)); read_blocks.R works without it."
  fi
}
have_r && install_blocksrx
exit 0
