# The two commands of the README: `make serve` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve test test-sqlite test-postgres bench check clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

serve: install
	$(VENV)/bin/onewindow secret init
	$(VENV)/bin/onewindow db upgrade
	$(VENV)/bin/onewindow seed --demo
	$(VENV)/bin/onewindow serve --host $(HOST) --port $(PORT)

check: install
	$(VENV)/bin/onewindow check

# The suite runs on SQLite, then again on PostgreSQL (tests skip, saying so, when none is reachable).
test: install
	$(PY) -m pytest -q -p no:cacheprovider
	ONEWINDOW_TEST_BACKEND=postgres $(PY) -m pytest -q -p no:cacheprovider -m "not browser"

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) var test-artifacts
