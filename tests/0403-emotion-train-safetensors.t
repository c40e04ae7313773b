#!/bin/bash
# The safetensors reader on good and hostile files; round trips.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-safetensors"
