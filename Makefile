# Quick start: `make demo` (set-up, then the langid demo) and `make test` (set-up, then the suite).
# Set-up is idempotent: a venv with the package and its extras; R + seriation and fonts via apt-get.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.blocks-rx-installed

.PHONY: setup system demo test bench figures clean

# The package's bytecode, compiled as a wheel install would: an editable install leaves it to
# the first import, and where PYTHONDONTWRITEBYTECODE is set every process compiles it again
# (about 0.1 s for what `blocks-rx analyze` imports). compileall skips what is up to date.
setup: $(STAMP) system
	@$(PY) -m compileall -q blocks_rx

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING' || true
	$(PY) -m pip install -q -c constraints.txt -e '.[all]' 2>&1 | grep -v '^WARNING' \
	  | sed '/BuildBackendWarning: Editable installation/,/wheel_obj:/d' || true
	$(PY) -c 'import blocks_rx, langid, babel, pytest'
	touch $@

system: $(STAMP)
	@bash scripts/setup_system.sh $(PY)

demo: setup
	$(VENV)/bin/blocks-rx demo --out demo-output

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) -m pip install -q -c constraints.txt 'seaborn>=0.13' 'fastcluster>=1.2' 2>&1 | grep -v '^WARNING' || true
	$(PY) benchmarks/run_all.py

figures: setup
	$(VENV)/bin/blocks-rx figures --out figures-output

clean:
	rm -rf $(VENV) demo-output figures-output .pytest_cache
