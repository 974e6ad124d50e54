#!/bin/sh
# Record Pigeonhole's answer for every case (or for the cases named) as
# cases/NAME.expected.json. Needs sieve-test (apt-get install dovecot-sieve).
# Usage: testdata/sieve/diff/record.sh [NAME...]
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
command -v sieve-test >/dev/null || { echo "record.sh: sieve-test not found (apt-get install dovecot-sieve)" >&2; exit 1; }
if [ $# -eq 0 ]; then
  set -- $(cd "$dir/cases" && ls *.sieve | sed 's/\.sieve$//')
fi
n=0
for name in "$@"; do
  name=${name%.sieve}
  python3 "$dir/oracle.py" "$dir/cases/$name.sieve" > "$dir/cases/$name.expected.json.tmp"
  mv "$dir/cases/$name.expected.json.tmp" "$dir/cases/$name.expected.json"
  n=$((n + 1))
done
echo "recorded $n cases"
