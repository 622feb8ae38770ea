# Every target creates .venv with pip if it is missing and installs the project into it, with
# the exact versions of constraints.txt (pyproject.toml holds the ranges a user's env may have).
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-all fuzz bench lint wheel wheel-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/accelscope lower resnet50 --verify --rows 8
	$(VENV)/bin/accelscope compare resnet18 --arch ideal,cpu

test: install
	$(PY) -m pytest -q -m "not slow"

# FUZZ_SECONDS: the coverage-guided part's budget per target (5 targets); atheris is installed
# here where it has a wheel (CPython on Linux x86-64) and skipped with a note elsewhere
FUZZ_SECONDS ?= 120
fuzz: install
	$(PY) -m pytest -q tests/fuzz --hypothesis-profile=fuzz -W ignore::DeprecationWarning
	$(PY) -m pip install --disable-pip-version-check -q atheris || echo "atheris does not install here"
	$(PY) tests/fuzz/atheris_fuzz.py all --seconds $(FUZZ_SECONDS)

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

# dist/accelscope-VERSION-py3-none-any.whl; build/ goes first so that no stale module from an
# earlier build can slip into the wheel
wheel: | $(PY)
	rm -rf build dist/accelscope-*.whl
	$(PY) -m pip wheel --disable-pip-version-check -q --no-deps -w dist .

# .ci/wheel-test builds the wheel, installs it into a clean venv (not editable, no extras) and
# runs it from outside the checkout
wheel-test: | $(PY)
	.ci/wheel-test

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
