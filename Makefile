PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check screenshots bench clean

# An editable install leaves payviz's own modules uncompiled (pip byte-compiles only the
# files it copies): compile them here, as a wheel install would, or every start compiles
# them again when bytecode is not written (PYTHONDONTWRITEBYTECODE).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	$(PY) -m compileall -q payviz
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/payviz

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

check: $(STAMP)
	$(VENV)/bin/ruff check payviz tests
	$(VENV)/bin/ruff format --check payviz tests
	$(VENV)/bin/mypy payviz
	$(VENV)/bin/lint-imports

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/payviz --snapshot docs/screenshots/direct-jwe.png --mode direct --step 2
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/payviz --snapshot docs/screenshots/redirect-declined.png --mode redirect --decision decline
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/payviz --snapshot docs/screenshots/sequence-view.png --mode redirect --panel sequence --step 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
