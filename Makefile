# Every target creates .venv with pip if it is missing and installs the project into it.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-all fuzz bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/accelscope lower resnet50 --verify --rows 8
	$(VENV)/bin/accelscope compare resnet18 --arch ideal,cpu

test: install
	$(PY) -m pytest -q -m "not slow"

fuzz: install
	$(PY) -m pytest -q tests/fuzz --hypothesis-profile=fuzz -W ignore::DeprecationWarning

test-all: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/lowering.py
	$(PY) bench/evaluate.py
	$(PY) bench/scnn.py
	$(PY) bench/dct.py

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
