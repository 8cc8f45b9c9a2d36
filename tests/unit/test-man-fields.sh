#!/usr/bin/env bash
# The man pages of the two JSON files document every field their READMEs' tables list:
# examples/README-dmigrated.md -> dmigrated.json(5), examples/specs/README.md ->
# dmigrate-vm-spec(5). A field added to a README without its man page fails here.
# Usage: test-man-fields.sh SOURCE_DIR
set -euo pipefail

src=$1
failed=0
check() {
	local readme=$1 page=$2 fields n=0
	# The first column of every table row: | `field` | ...
	fields=$(sed -n 's/^| `\([a-z_]*\)` |.*/\1/p' "$readme" | sort -u)
	for f in $fields; do
		n=$((n + 1))
		grep -q "^\*$f\*" "$page" || { echo "FAIL: $f ($readme) is not in $page"; failed=1; }
	done
	[ "$n" -ge 8 ] || { echo "FAIL: only $n fields found in $readme: did its tables change shape?"; failed=1; }
	echo "$n fields of $readme checked"
}
check "$src/examples/README-dmigrated.md" "$src/man/dmigrated.json.5.scd"
check "$src/examples/specs/README.md" "$src/man/dmigrate-vm-spec.5.scd"
exit "$failed"
