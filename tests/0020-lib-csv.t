#!/bin/bash
# lib/csv.c: RFC 4180 reading, errors naming the line, writer, number formatting.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-csv"
