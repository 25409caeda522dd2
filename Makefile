# Two commands on a fresh machine:
#   make run    install requirements.txt into .venv and start the app
#   make test   install requirements-dev.txt into .venv, lint, and run the whole test suite
# and the inner loop while working: make check (lint, then the tests that need no browser,
# no nginx, no server process and no real training: about a minute and a half here).
# (and `make cluster`: REPLICAS copies of the app behind nginx, see deploy/cluster.py)
# Both also install this project into .venv in editable mode (no dependencies: the pinned
# requirement files bring those), which gives .venv/bin/lrn-train and .venv/bin/lrn-bench.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
PORT   ?= 8501

REPLICAS ?= 2

.PHONY: run cluster test check lint bench clean

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

# N replicas behind Debian's nginx on $(PORT) (needs nginx: apt-get install nginx).
cluster: $(VENV)/.runtime
	$(PY) -m deploy.cluster --replicas $(REPLICAS) --port $(PORT)

test: lint
	$(PY) -m pytest

check: lint
	$(PY) -m pytest -m "not slow" --ignore=tests/browser --ignore=tests/serving

lint: $(VENV)/.dev
	$(PY) -m ruff check .

bench: $(VENV)/.runtime
	$(PY) -m lrn_core.bench

# Stamp files: reinstall only when the requirement files change.
$(VENV)/.runtime: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $@ $(VENV)/.runtime

clean:
	rm -rf $(VENV) .pytest_cache artifacts build *.egg-info
