#!/bin/bash
# The inference contract (lib/model.h) used by emotion-predict.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-model"
