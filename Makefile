# The README's two commands: `make run` and `make test`.
.PHONY: setup run desktop package demo test check bench types mutants

setup:
	scripts/setup.sh

# Builds the UI and the desktop app (release, UI embedded), and starts it.
run:
	scripts/desktop.sh run

# Builds target/release/roundtable-desktop with the UI embedded.
desktop:
	scripts/desktop.sh build

# The .deb a user installs (release, stripped, the `roundtable` CLI beside the
# app in /usr/bin), then checked: scripts/check-package.sh.
package:
	scripts/package.sh

# The CLI demo: a roundtable against a local server, or the bundled fake one.
demo:
	scripts/demo.sh

# Regenerates the UI's IPC types (ui/src/lib/ipc/types) from the Rust types.
types:
	ROUNDTABLE_UPDATE_TYPES=1 cargo test -q -p roundtable-desktop --lib ipc_types

test:
	scripts/test.sh

# The inner loop: formatting, lints, unit tests (no integration tests, no
# setup, no end to end) and the UI's type check and component tests.
check:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace --lib --bins -q
	npm --prefix ui run check
	npm --prefix ui test

bench:
	scripts/bench.sh

# Mutation testing of the judge, the budget and the attachment checks (slow,
# not in CI): scripts/mutants.sh, its report in mutants.out/.
mutants:
	scripts/mutants.sh
