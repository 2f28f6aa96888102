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

lint:
	.venv/bin/ruff check .

i18n:
	bash dev/i18n.sh
