. "$(dirname "$0")/lib.sh"
exec "$VB_UNIT/test-haar-pack"
