#!/bin/bash
# lib/image.c: PNG colour types and bit depths, PNM, JPEG, bad input, gray,
# resize, crop, writing (fixtures from testdata/gen-images.py).
. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-image" "$TESTDATA/images"
