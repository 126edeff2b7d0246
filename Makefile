# Two entry points for people: `make demo` and `make test`. Each creates .venv and installs
# what it needs, so a fresh machine with only Python 3.11+ is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck check bench schemas clean

# Installs go through uv (from PyPI, into the venv): about 5 s for the dev extras where pip
# took about 60 s on the same machine, a tenth of `make test`. Where uv cannot be installed or
# cannot install (no wheel for the platform, an index only pip is configured for), pip does it.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	-$(BIN)/python -m pip install --quiet uv

install = $(BIN)/uv pip install --quiet --python $(BIN)/python $(1) 2>/dev/null \
	|| $(BIN)/pip install --quiet $(1)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(call install,-e .)
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(call install,-e '.[dev]')
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/integrator demo

# The suite starts `integrator` as a subprocess hundreds of times: compiled once here, the
# project's modules are not compiled again by each process. PYTHONDONTWRITEBYTECODE is lifted
# for the run: with it set, pytest cannot keep its assertion-rewritten test modules either, and
# every test process (each worker, the exclusive run) rewrote and compiled all 330 of them again,
# about 25 s of CPU each.
# Four pytest-xdist workers, a test file each at a time (module fixtures are not made twice);
# the tests marked `exclusive` restart RabbitMQ or PostgreSQL under a running engine, so they
# run afterwards, alone. TEST_WORKERS=1 runs everything in one process. On two cores three
# were no faster while the suite was CPU-bound (674 s against 681-689 s for the parallel part,
# before the PostgreSQL catalogs were compacted); since, much of it waits (engines starting,
# outages, retries, stop budgets): three took 411-422 s where two took 480-507 s, and four
# 519-520 s where three took 556-557 s, two pairs run one after the other on an idle machine
# (4,805-4,817 tests; bench/results/perf.md, "The test suite's time").
TEST_WORKERS ?= 4
# The tests' stores, destination files and browser profiles go to memory (/dev/shm) where the
# machine has it: a run writes about 700 MB there, and on a disk the stores' fsyncs and the
# kernel's writeback cost as much CPU as a test worker. TEST_TMPDIR=/tmp keeps them on disk.
TEST_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm || echo $${TMPDIR:-/tmp})
# Root reads and writes a file whatever its permissions, so the tests that take them away
# (marked `without_file_powers`, tests/file_powers.py) prove nothing as root, and CI runs as
# root: there they run once more, alone, as root without that power (util-linux's setpriv drops
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from what the test process may ever hold). As any
# other user they run with the rest.
WITHOUT_FILE_POWERS := $(shell test "$$(id -u)" = 0 && command -v setpriv >/dev/null \
	&& echo setpriv --bounding-set=-dac_override,-dac_read_search --)
# The tests run again afterwards are given by their files, found by their marker's word (what
# tests/conftest.py's RUN_ALONE_BY_FILE checks every marked test's file says): collecting the
# whole suite again to select a handful of them took 15-20 s a run.
EXCLUSIVE_FILES = $(shell grep -rl --include='test_*.py' -e 'mark.exclusive' tests)
FILE_POWER_FILES = $(shell grep -rl --include='test_*.py' -e 'without_file_powers' tests)
test: $(VENV)/.installed-dev
	$(BIN)/python -m compileall -q -j 0 integrator shapes schemas mappings destinations deadletter
	env -u PYTHONDONTWRITEBYTECODE TMPDIR=$(TEST_TMPDIR) \
	    $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile \
	    -m "not exclusive$(if $(WITHOUT_FILE_POWERS), and not without_file_powers)"
	env -u PYTHONDONTWRITEBYTECODE TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -m exclusive \
	    $(EXCLUSIVE_FILES)
	$(if $(WITHOUT_FILE_POWERS),env -u PYTHONDONTWRITEBYTECODE TMPDIR=$(TEST_TMPDIR) \
	    $(WITHOUT_FILE_POWERS) $(BIN)/pytest -m "without_file_powers and not exclusive" \
	    $(FILE_POWER_FILES))

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy integrator shapes schemas mappings destinations deadletter tests bench

check: lint typecheck test

schemas: $(VENV)/.installed
	$(BIN)/python -m schemas.generate
	$(BIN)/python -m integrator.store.sqlite_head

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
