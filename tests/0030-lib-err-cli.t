#!/bin/bash
# lib/err.c and lib/cli.c: messages, exit statuses, common options, write errors.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-err-cli"
