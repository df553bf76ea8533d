# StagePlay: `make run` installs and starts the stage; `make test` installs and tests it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_SERVICE_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test test-services lint format clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_cast
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/uvicorn --host $(HOST) --port $(PORT) stageplay.asgi:application

test: install
	$(BIN)/python -m pytest

test-services: install
	DATABASE_URL=$(POSTGRES_URL) REDIS_URL=$(REDIS_SERVICE_URL) $(BIN)/python -m stageplay.services_check
	DATABASE_URL=$(POSTGRES_URL) REDIS_URL=$(REDIS_SERVICE_URL) $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
