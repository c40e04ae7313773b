# lib/feedback: format, torn lines, and 8 concurrent writers (some killed).
# The writers' log lives on /dev/shm when it is there (fsync is cheap on
# tmpfs, the locking and appending are the same), else in $T.
. "$(dirname "$0")/lib.sh"
d=$T
[ -d /dev/shm ] && [ -w /dev/shm ] && d=/dev/shm
exec "$VB_UNIT/test-feedback" "$d"
