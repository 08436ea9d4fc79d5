#!/bin/sh
# cli_cases.sh NNTRACE — runs the golden command-line cases in cli_cases.txt:
# each line gives the expected exit code, a command and a regular expression
# (Python syntax, multi-line) its combined output must match.
nt=$1
here=$(cd "$(dirname "$0")" && pwd)
demo=$here/../../examples/demo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
while IFS= read -r line; do
    case $line in '#'* | '') continue ;; esac
    want=$(printf '%s' "$line" | cut -d'|' -f1 | tr -d ' ')
    cmd=$(printf '%s' "$line" | cut -d'|' -f2 | sed 's/^ *//; s/ *$//')
    re=$(printf '%s' "$line" | cut -d'|' -f3- | sed 's/^ //')
    cmd=$(printf '%s' "$cmd" | sed "s#\$NT#$nt#g; s#\$DEMO#$demo#g; s#\$TMP#$tmp#g")
    out=$(timeout 60 sh -c "$cmd" 2>&1)
    got=$?
    if [ "$got" = "$want" ] && printf '%s' "$out" | /usr/bin/python3 -c "import re,sys; sys.exit(0 if re.search(sys.argv[1], sys.stdin.read(), re.M) else 1)" "$re"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $cmd"
        echo "  expected exit $want and /$re/; got exit $got:"
        printf '%s\n' "$out" | head -8 | sed 's/^/    /'
    fi
done < "$here/cli_cases.txt"
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
