#!/bin/bash
# The inference-only network (folded batch norms, Winograd convolutions)
# against the ordinary inference pass.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.." && exec "$VB_UNIT/test-freeze"
