# Two commands do all set-up on a fresh machine:
#   make demo  - install, start the services, migrate, load demo data, serve http://127.0.0.1:5000
#   make test  - install, start the services, run the whole test suite against them
.PHONY: demo test services stop status lint i18n bench

demo:
	bash dev/demo.sh

test: services
	bash dev/test.sh

services:
	bash dev/services.sh start

stop:
	bash dev/demo.sh stop || true
	bash dev/services.sh stop

status:
	bash dev/services.sh status

# style and errors (ruff), then the import contracts of .importlinter (views > logic > lib > model,
# core and documents free of CKAN, no cycles)
lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-cache

# the benchmarks of bench/: lists, show and transitions as the data grows (numbers only), then
# the short scale run (gunicorn, RQ workers, Locust load and faults; fails on a broken invariant)
bench: services
	.venv/bin/python bench/run.py
	.venv/bin/python bench/scale/run.py --short

i18n:
	bash dev/i18n.sh
