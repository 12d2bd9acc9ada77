#!/usr/bin/env bash
# Mutation testing (issue 32), not in CI (too slow): cargo-mutants changes the
# code the judge, the budget and the attachment checks are made of, one small
# change at a time, and runs their crate's tests; a mutant no test catches is
# a behaviour nothing guards. It works on a copy of the tree (its own target
# directory, so the first build is cold). Its report: mutants.out/ (caught.txt,
# missed.txt, timeout.txt, unviable.txt).
#   make mutants                         # the files below
#   scripts/mutants.sh --file crates/app/src/judge.rs   # others, or narrower
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
if [ ! -x .tools/bin/cargo-mutants ]; then
  echo "mutants: installing cargo-mutants 27.1.0 into .tools/bin"
  cargo install cargo-mutants --version 27.1.0 --locked --root .tools --quiet
fi
files=(
  crates/app/src/judge.rs
  crates/app/src/budget.rs
  crates/app/src/attachments.rs
  crates/core/src/attachments.rs
)
args=()
if [ $# -eq 0 ]; then
  for f in "${files[@]}"; do args+=(--file "$f"); done
else
  args=("$@")
fi
# The crates whose tests judge a mutant: the app's (judge, budget, attachment
# reading) and the core's (attachment checks); the keychain tests need a
# Secret Service.
exec scripts/with-keyring.sh .tools/bin/cargo-mutants mutants --no-shuffle --timeout-multiplier 3 \
  -p roundtable-app -p roundtable-core "${args[@]}"
