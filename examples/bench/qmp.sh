# shellcheck shell=bash
# A small QMP client for the benchmark's bash scripts: one persistent connection per QEMU
# through socat, replies matched by id, events kept with the time QEMU stamped them, so phase
# boundaries come from QEMU's own clock (the lab runs every QEMU on this machine: the clock
# bash's EPOCHREALTIME reads). Pure bash on the hot path: a process per step would add tens of
# milliseconds to the baselines' phases.
#
#   qmp_open NAME SOCKET [HOST] connect and negotiate capabilities; with HOST, SOCKET is in the
#                               SR-IOV lab's host VM HOST, reached through `$LAB exec HOST`:
#                               that VM's clock is not this machine's, so its events' times are
#                               when their lines arrive here (an SSH hop later, a few ms)
#   qmp NAME CMD [ARGS-JSON]    run a command; the reply line is left in QMP_REPLY; fails
#                               (message on stderr) on an error reply or after 30 s
#   qmp_event NAME REGEX SECS   wait for an event whose line matches the bash REGEX, among
#                               those not matched yet (SECS may have a fraction: 0.25); leaves
#                               its line in QMP_EVENT and QEMU's time of it (epoch seconds) in
#                               QMP_T
#   qmp_close NAME
# Needs socat, and QMP_DIR (a directory for the fifos).

# shellcheck disable=SC2034 # QMP_REPLY, QMP_EVENT, QMP_T are for the callers
declare -A QMP_IN=() QMP_OUT=() QMP_PID=() QMP_SEQ=()
declare -A QMP_EVENTS=() # NAME -> events not matched yet, one per line, each + TAB + arrival
declare -A QMP_REMOTE=() # NAME -> the host VM its QEMU runs in (SR-IOV lab), if any
QMP_REPLY='' QMP_EVENT='' QMP_T=''

qmp_now_us() {
	echo "${EPOCHREALTIME/./}"
}

qmp_open() {
	local name=$1 sock=$2 host=${3:-} base=$QMP_DIR/qmp-$1 in out line via=()
	rm -f "$base.in" "$base.out"
	mkfifo "$base.in" "$base.out"
	[ -z "$host" ] || via=("$LAB" exec "$host" --)
	QMP_REMOTE[$name]=$host
	"${via[@]}" socat -t 5 "UNIX-CONNECT:$sock" STDIO <"$base.in" >"$base.out" 2>"$base.err" &
	QMP_PID[$name]=$!
	exec {in}>"$base.in" {out}<"$base.out"
	QMP_IN[$name]=$in QMP_OUT[$name]=$out QMP_SEQ[$name]=0 QMP_EVENTS[$name]=''
	if ! IFS= read -r -t 10 line <&"$out" || [[ "$line" != *'"QMP"'* ]]; then
		echo "qmp: no greeting from $sock: $(cat "$base.err")" >&2
		return 1
	fi
	qmp "$name" qmp_capabilities
}

# One line from NAME within $2 seconds into QMP_LINE; events are queued.
qmp_read_line() {
	local name=$1 timeout=$2
	IFS= read -r -t "$timeout" QMP_LINE <&"${QMP_OUT[$name]}" || return 1
	if [[ "$QMP_LINE" == *'"event"'* ]]; then
		QMP_EVENTS[$name]+="$QMP_LINE"$'\t'"$EPOCHREALTIME"$'\n'
	fi
}

qmp() {
	local name=$1 cmd=$2 args=${3:-} id deadline
	id=$((QMP_SEQ[$name] + 1))
	QMP_SEQ[$name]=$id
	if [ -n "$args" ]; then
		printf '{"execute": "%s", "arguments": %s, "id": %d}\n' "$cmd" "$args" "$id"
	else
		printf '{"execute": "%s", "id": %d}\n' "$cmd" "$id"
	fi >&"${QMP_IN[$name]}"
	deadline=$(($(qmp_now_us) + 30000000))
	while [ "$(qmp_now_us)" -lt "$deadline" ]; do
		qmp_read_line "$name" 30 || break
		[[ "$QMP_LINE" =~ \"id\":\ ?${id}[,}] ]] || continue
		QMP_REPLY=$QMP_LINE
		if [[ "$QMP_LINE" == *'"error"'* ]]; then
			echo "qmp: $name: $cmd: $QMP_LINE" >&2
			return 1
		fi
		return 0
	done
	echo "qmp: $name: no reply to $cmd" >&2
	return 1
}

qmp_event() {
	local name=$1 regex=$2 timeout=$3 deadline left rest='' line found=no frac
	frac=000000
	[[ "$timeout" != *.* ]] || frac=${timeout#*.}000000
	deadline=$(($(qmp_now_us) + 10#${timeout%.*}0 * 100000 + 10#${frac:0:6}))
	while :; do
		rest=''
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			if [ $found = no ] && [[ "$line" =~ $regex ]]; then
				found=yes
				QMP_EVENT=$line
			else
				rest+="$line"$'\n'
			fi
		done <<<"${QMP_EVENTS[$name]}"
		QMP_EVENTS[$name]=$rest
		if [ $found = yes ]; then
			QMP_T=${QMP_EVENT##*$'\t'}
			QMP_EVENT=${QMP_EVENT%$'\t'*}
			[ -z "${QMP_REMOTE[$name]}" ] || return 0
			[[ "$QMP_EVENT" =~ \"seconds\":\ ?([0-9]+),\ ?\"microseconds\":\ ?([0-9]+) ]]
			QMP_T=${BASH_REMATCH[1]}.$(printf '%06d' "$((10#${BASH_REMATCH[2]}))")
			return 0
		fi
		left=$(((deadline - $(qmp_now_us)) / 1000))
		if [ "$left" -le 0 ]; then
			echo "qmp: $name: no event matching '$regex' within ${timeout} s" >&2
			return 1
		fi
		qmp_read_line "$name" "$((left / 1000)).$(printf '%03d' $((left % 1000)))" || true
	done
}

qmp_close() {
	local name=$1 fd
	[ -n "${QMP_PID[$name]:-}" ] || return 0
	fd=${QMP_IN[$name]}
	exec {fd}>&-
	fd=${QMP_OUT[$name]}
	exec {fd}<&-
	kill "${QMP_PID[$name]}" 2>/dev/null || true
	wait "${QMP_PID[$name]}" 2>/dev/null || true
	unset "QMP_PID[$name]"
	rm -f "$QMP_DIR/qmp-$name.in" "$QMP_DIR/qmp-$name.out"
}
