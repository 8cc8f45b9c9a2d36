#!/usr/bin/env bash
# Every option a dmigrate command parses (its option table in src/orchestrator/cli/) is
# listed by that command's --help and in the man page; every command of the dispatch table is in
# the man page and in the bash completion's list. Usage: test-cli-options.sh SOURCE_DIR DMIGRATE
set -euo pipefail

src=$1
bin=$2
cli=$src/src/orchestrator/cli
man=$src/man/dmigrate.8.scd
completion=$src/data/bash-completion/dmigrate
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# The long options of the `struct option` and `cli_opt` (cli_options.h) tables in FILE, macros
# from cli_*.h expanded.
options_of() {
	awk '/static const struct option [a-z_]+\[\] = \{/ { on = 1 } on { print } on && /^\t\};/ { on = 0 }
	     /const cli_opt [a-z_]+\[\] = \{/ { opt = 1 } opt { print } opt && /\{\} \};/ { opt = 0 }' "$1" |
		while IFS= read -r line; do
			if [[ $line =~ (CLI_[A-Z_]+_OPTIONS) ]]; then
				awk -v m="${BASH_REMATCH[1]}" '$0 ~ "#define " m { on = 1 } on { print } on && !/\\$/ { on = 0 }' "$cli"/*.h
			else
				echo "$line"
			fi
		done | grep -o '{ "[a-z-]*"' | sed 's/{ "\(.*\)"/\1/' | sort -u
}

commands=$(sed -n 's/^\t{ "\([a-z-]*\)", cli_[a-z_]*, ".*/\1/p' "$cli/cli_main.c")
[ -n "$commands" ] || fail "no commands found in cli_main.c's table"
checked=0
for cmd in $commands; do
	grep -Eq "^\*$cmd[* ]" "$man" || fail "man page: no entry for the command '$cmd'"
	grep -q "local commands=\".*\b$cmd\b" "$completion" || fail "completion: the command '$cmd' is not offered"
	file=$cli/cli_$cmd.c
	[ -f "$file" ] || continue
	help=$("$bin" "$cmd" --help) || fail "dmigrate $cmd --help exits $?"
	for opt in $(options_of "$file"); do
		checked=$((checked + 1))
		grep -q -- "--$opt\b" <<<"$help" || fail "dmigrate $cmd --help does not list --$opt"
		grep -q -- "\*--$opt\*" "$man" || fail "man page: --$opt of '$cmd' is not documented"
	done
done
[ "$checked" -ge 20 ] || fail "only $checked options found: did the option tables change shape?"
[ "$failed" -eq 0 ] && echo "PASS: $checked options of $(wc -w <<<"$commands") commands in --help and the man page"
exit "$failed"
