#!/usr/bin/env bash
# Builds Roundtable and runs a roundtable from the CLI against a local
# OpenAI-compatible server: Ollama (11434) or LM Studio (1234) when one is
# running, otherwise the bundled fake provider as a demo server.
#   make demo PROMPT="Why is the sky blue?" MODELS="ollama/llama3.2 ollama/qwen3"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cargo build --release -q -p roundtable-cli -p roundtable-testkit
bin=target/release
prompt=${PROMPT:-"In one paragraph: why do several models answering the same question beat one?"}
models=${MODELS:-}

first_models() { # provider url: the first two models a local server lists
  curl -sf --max-time 2 "$2/models" | python3 -c '
import json, sys
ids = [m["id"] for m in json.load(sys.stdin).get("data", [])][:2]
print(" ".join(sys.argv[1] + "/" + i for i in ids))' "$1" 2>/dev/null || true
}

if [ -z "$models" ]; then models=$(first_models ollama http://127.0.0.1:11434/v1); fi
if [ -z "$models" ]; then models=$(first_models lmstudio http://127.0.0.1:1234/v1); fi

args=()
if [ -z "$models" ]; then
  echo "No local server found on 11434 (Ollama) or 1234 (LM Studio): using the bundled fake provider as a demo."
  demo=$(mktemp -d)
  trap 'kill $fake 2>/dev/null || true; rm -rf "$demo"' EXIT
  cat > "$demo/script.json" <<'JSON'
{"default": {"latency_ms": 400, "chunk_delay_ms": 120, "chunks": 12,
  "answer": "Several independent answers expose each model's blind spots: where they agree you can be more confident, and where they differ you see what to check. A consolidation keeps the best of each."}}
JSON
  "$bin/roundtable-fake-provider" --script "$demo/script.json" > "$demo/fake.log" &
  fake=$!
  for _ in $(seq 50); do grep -q listening "$demo/fake.log" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$demo/fake.log")
  mkdir -p "$demo/home"
  printf '[providers.demo]\nformat = "openai"\nbase_url = "%s/v1"\n' "$url" > "$demo/home/config.toml"
  args+=(--home "$demo/home")
  models="demo/model-a demo/model-b demo/model-c"
fi
for m in $models; do args+=(-m "$m"); done
exec "$bin/roundtable" run "$prompt" "${args[@]}"
