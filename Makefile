# The README's two commands: `make demo` (the main job) and `make test` (the whole suite);
# `make test-fast` leaves out the tests marked slow.
# Both create .venv with Python 3.12+ when it is missing and install ctsim into it.

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
EXTRAS  ?= dev

.PHONY: demo examples test test-fast lint bench contract clean

$(STAMP): pyproject.toml
	@test -x $(PY) || { base=$$(scripts/find-python) && echo "creating $(VENV) with $$base" && "$$base" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

## demo: the main job: the barrier and lever sweep on 2 workers, then its report
demo: $(STAMP)
	$(VENV)/bin/ctsim sweep experiments/challenges.yaml --workers 2 --out results/challenges --resume
	$(VENV)/bin/ctsim report results/challenges
	@echo "open results/challenges/REPORT.md"

## examples: the other shipped experiments and their reports
examples: $(STAMP)
	for e in regimes sovereignty_x_legal morris; do \
		$(VENV)/bin/ctsim sweep experiments/$$e.yaml --workers 2 --out results/$$e --resume && \
		$(VENV)/bin/ctsim report results/$$e || exit 1; done

## test: lint, then the whole test suite on two workers
test: $(STAMP)
	$(VENV)/bin/ruff check ctsim tests benchmarks scripts
	$(PY) -m pytest -n 2 --durations=10

## test-fast: lint, then the suite without the tests marked slow (pytest -m slow), on two workers
test-fast: $(STAMP)
	$(VENV)/bin/ruff check ctsim tests benchmarks scripts
	$(PY) -m pytest -n 2 -m "not slow" --durations=10

lint: $(STAMP)
	$(VENV)/bin/ruff check ctsim tests benchmarks scripts

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py --repeats 9

## contract: the public contract check from the specification folder beside the repository
contract: $(STAMP)
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) ../shared/tools/check_contract.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
