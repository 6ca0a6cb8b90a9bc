# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export ZHIBIAO_DATA_DIR ?= $(CURDIR)/instance

.PHONY: install run test serve init clean

$(BIN)/zhibiao: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/zhibiao

init: install
	$(BIN)/zhibiao init --if-empty

run: init
	$(BIN)/zhibiao serve --host $(HOST) --port $(PORT)

# production mode: gunicorn with gunicorn.conf.py (workers from the CPU count)
serve: init
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): otherwise each of
# the test processes compiles the project and assertion-rewrites the test modules again, every run.
test: install
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
