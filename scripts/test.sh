#!/usr/bin/env bash
# The test command (`npm test`): make sure an Engine runs, the Debian packages the tests need
# are installed and the local test images exist, then run the whole vitest suite (arguments
# are passed to vitest, e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-engine.sh
bash scripts/ensure-test-deps.sh
bash scripts/build-test-images.sh
exec npx vitest run "$@"
