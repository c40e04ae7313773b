#!/bin/bash
# Numerical gradient checks of every layer and the loss; determinism.
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-nn"
