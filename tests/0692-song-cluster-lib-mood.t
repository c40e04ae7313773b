#!/bin/bash
# lib/mood.c unit tests.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-mood"
