#!/bin/bash
# lib/stats.c and lib/schema.c: KLL sketch accuracy and merging, drift distances, schema round trip.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-stats"
