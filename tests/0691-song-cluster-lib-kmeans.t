#!/bin/bash
# lib/kmeans.c unit tests.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-kmeans"
