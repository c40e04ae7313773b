#!/bin/bash
# lib/pca.c: exact small cases, invariants, sign convention, bad sizes.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-pca"
