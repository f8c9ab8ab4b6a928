# Two commands are all a newcomer needs:  make demo  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# cpu (default): small CPU-only PyTorch; cuda: PyPI's CUDA build; skip: keep your own.
TORCH  ?= cpu
OUT    ?= out
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-m "not slow"' for a quicker loop.
PYTEST_ARGS ?=

.PHONY: demo test install dev bench dashboard chromium clean

demo: $(VENV)/.installed
	$(BIN)/iceberg run --input sample_data/helpdesk_tickets.csv --out $(OUT) \
		--set profile.events=sample_data/helpdesk_events.csv
	@echo
	$(BIN)/iceberg show --out $(OUT) --top 5
	@echo
	@echo "Open the dashboard on this run:  $(BIN)/iceberg dashboard --out $(OUT)   (or: make dashboard)"
	@echo "A brief to forward: $(BIN)/iceberg report --out $(OUT) --format html -o brief.html"

# The support leads' dashboard on the latest run in OUT (http://127.0.0.1:8501/).
dashboard: $(VENV)/.installed
	$(BIN)/iceberg dashboard --out $(OUT)

test: $(VENV)/.dev chromium
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# Debian's chromium for the dashboard's browser tests (a no-op when /usr/bin/chromium exists).
chromium:
	@scripts/install-chromium.sh

install: $(VENV)/.installed
dev: $(VENV)/.dev

bench: $(VENV)/.dev
	$(BIN)/python bench/banking77.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.torch: scripts/install-torch.sh | $(BIN)/python
	scripts/install-torch.sh $(BIN)/python $(TORCH)
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
