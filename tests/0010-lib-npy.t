#!/bin/bash
# lib/npy.c: .npy headers, dtypes, streams, hostile input, numpy round trips.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-npy"
