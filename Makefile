# The two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PORTAL_I18N := services/portal/translations

.PHONY: run test install bench schemas translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/letsconnect up

# The browser tests (tests/browser/) drive Debian's Chromium: Playwright's own browser download is
# not reachable from here. fonts-noto-core draws Arabic (and most scripts) in screenshots.
$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-noto-core || \
		($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-noto-core)

test: install $(CHROMIUM)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

schemas: install
	$(BIN)/python -m shared.events.export docs/events

# The portal's gettext catalogues: collect every string, merge it into each language's .po (new ones
# appear untranslated: tests/unit/portal lists them), compile the .mo files (committed).
translations: install
	$(BIN)/pybabel extract -F services/portal/babel.cfg -k N_ --no-location --sort-output --width 100 \
		--project "Let's Connect portal" --copyright-holder "Let's Connect contributors" \
		--msgid-bugs-address letsconnect@wikimedia.example -o $(PORTAL_I18N)/messages.pot services/portal
	$(BIN)/pybabel update -i $(PORTAL_I18N)/messages.pot -d $(PORTAL_I18N) --width 100 --ignore-obsolete
	$(BIN)/pybabel compile -d $(PORTAL_I18N) --statistics
	# the coordinators' console: its own domain (staff.pot, */LC_MESSAGES/staff.po)
	$(BIN)/pybabel extract -F services/portal/staff_babel.cfg -k N_ --no-location --sort-output --width 100 \
		--project "Let's Connect console" --copyright-holder "Let's Connect contributors" \
		--msgid-bugs-address letsconnect@wikimedia.example -o $(PORTAL_I18N)/staff.pot services/portal
	$(BIN)/pybabel update -D staff -i $(PORTAL_I18N)/staff.pot -d $(PORTAL_I18N) --width 100 --ignore-obsolete
	$(BIN)/pybabel compile -D staff -d $(PORTAL_I18N) --statistics

clean:
	rm -rf $(VENV) .letsconnect
