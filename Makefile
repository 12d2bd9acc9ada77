# The README's two commands: `make run` and `make test`.
.PHONY: setup run test bench

setup:
	scripts/setup.sh

run:
	scripts/run.sh

test:
	scripts/test.sh

bench:
	scripts/bench.sh
