# localize: every install step lives here, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
SAMPLE := src/localize/samples/intro-course
DEMO   := demo-output
# the real OCW corpus (test data, never copied here): corpus tests skip and `make bench` stops without it
CORPUS ?= ../shared/corpus/ocw
export LOCALIZE_CORPUS ?= $(abspath $(CORPUS))

# Prefect stays local, quiet and offline (see ../shared/notes/prefect.md)
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: help install system-deps test lint typecheck demo bench serve s3 clean

help:
	@echo "make demo    run the sample course end to end (output in $(DEMO)/)"
	@echo "make test    install everything and run lint, types and the whole test suite"
	@echo "make bench   measure localize beside translate-toolkit on the OCW corpus (CORPUS=$(CORPUS))"
	@echo "make serve   a local Prefect server, work pool, deployments and a worker"
	@echo "make s3      a local S3 server (SeaweedFS) on 127.0.0.1:8333 and the environment to export"
	@echo "make install create $(VENV) with localize and its dev tools"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("localize needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# Debian packages the tests use: GNU gettext (msgfmt, msgen, msgmerge) to check our
# catalogs, Chromium and Noto fonts for the real-browser tests (RTL and other scripts),
# OmegaT for the CAT-tool tests (tests/test_omegat.py).
SYSTEM_PACKAGES := gettext chromium fonts-noto-core omegat
system-deps:
	@missing=""; \
	command -v msgfmt >/dev/null 2>&1 || missing="$$missing gettext"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	test -d /usr/share/fonts/truetype/noto || missing="$$missing fonts-noto-core"; \
	command -v omegat >/dev/null 2>&1 || missing="$$missing omegat"; \
	if [ -n "$$missing" ]; then \
	  echo "installing with apt-get:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null) || \
	  { echo "could not install:$$missing -- install them with your package manager"; exit 1; }; \
	fi

lint: install
	$(BIN)/ruff check src flows tests benchmarks
	$(BIN)/ruff format --check src flows tests benchmarks

typecheck: install
	$(BIN)/mypy

test: install system-deps lint typecheck
	$(BIN)/python -m pytest

demo: install
	$(BIN)/python -m flows.demo $(DEMO) demo-site

# A local Prefect server with the localize work pool, every deployment and a worker.
serve: install
	infra/serve.sh

# A local S3 server for development (SeaweedFS from the dev extra), in the foreground until Ctrl-C;
# prints AWS_ENDPOINT_URL, the keys and a bucket to export. S3_PORT=0 picks a free port.
S3_PORT ?= 8333
s3: install
	$(BIN)/python -m localize_dev.seaweed --dir .seaweedfs --port $(S3_PORT)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

# The engine beside translate-toolkit, catalog updates beside msgmerge and Babel (Babel's update
# takes minutes on the corpus, hence one repeat), publish/pull and the whole pipeline (with Dask).
bench: $(BENCH_STAMP) system-deps
	@test -d "$(CORPUS)" || { echo "make bench needs the OCW corpus, not found at $(CORPUS): give its folder, make bench CORPUS=PATH"; exit 2; }
	$(BIN)/python benchmarks/run.py --corpus $(CORPUS) --write BENCHMARKS.md
	$(BIN)/python benchmarks/percore.py --corpus $(CORPUS) --write BENCHMARKS.md
	$(BIN)/python benchmarks/update.py --corpus $(CORPUS) --repeat 1 --write BENCHMARKS.md
	$(BIN)/python benchmarks/pipeline.py --corpus $(CORPUS) --repeat 1 --write BENCHMARKS.md
	$(BIN)/python benchmarks/readers.py --corpus $(CORPUS) --write BENCHMARKS.md
	$(BIN)/python benchmarks/qa.py --write BENCHMARKS.md
	$(BIN)/python benchmarks/terms.py --corpus $(CORPUS) --write BENCHMARKS.md
	$(BIN)/python benchmarks/large_file.py --size-mb 300 --seaweed
	$(BIN)/python benchmarks/scale.py --corpus $(CORPUS) --sizes 25 250 --write BENCHMARKS.md
	$(BIN)/python benchmarks/light_pulls.py --corpus $(CORPUS) --write BENCHMARKS.md

clean:
	rm -rf $(DEMO) demo-site .prefect .seaweedfs .pytest_cache .mypy_cache .ruff_cache build *.egg-info src/*.egg-info
