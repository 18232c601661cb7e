# shellcheck shell=bash
# Running Python check scenarios (webd_checks.py's harness) from a TAP
# script: one helper process a scenario, its "ok - " / "not ok - " lines
# numbered into this script's TAP, a scenario that dies or times out
# reported as its missing checks. Sourced after tap.sh, not run.
#
# The sourcing script sets WORK (a private directory where helpers list the
# pids they start in $WORK/pids) and traps EXIT with scenarios_cleanup.

HELPER_PID=""
KEEP=0 # set when a check failed: the logs in $WORK are kept

# Kills the running helper (which stops its daemons), then whatever it left
# behind: the pids it listed in $WORK/pids, by pid only. Keeps the logs
# (without big captures) if a check failed.
# shellcheck disable=SC2317 # called by the EXIT trap
scenarios_cleanup() {
	local pid
	if [[ -n "$HELPER_PID" ]] && kill -0 "$HELPER_PID" 2>/dev/null; then
		kill -TERM "$HELPER_PID" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$HELPER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$HELPER_PID" 2>/dev/null
	fi
	if [[ -f "$WORK/pids" ]]; then
		while read -r pid; do [[ "$pid" =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null; done <"$WORK/pids"
		sleep 1
		while read -r pid; do [[ "$pid" =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null; done <"$WORK/pids"
	fi
	if ((KEEP)); then
		find "$WORK" -name '*.pcap' -size +1M -delete 2>/dev/null
		echo "# logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}

# run_scenario NAME CHECKS_FILE LIMIT_S [WRAPPER...]: runs `CHECKS_FILE NAME`
# (under WRAPPER, e.g. unshare) for at most LIMIT_S seconds and reports its
# checks; as many as `CHECKS_FILE --count NAME` says, a missing one failing.
run_scenario() {
	local scen="$1" checks="$2" limit="$3" want out rc got=0 bad=0 line t0=$SECONDS
	shift 3
	want="$(python3 "$checks" --count "$scen")"
	out="$WORK/$scen.out"
	timeout -k 5 "$limit" "$@" python3 "$checks" "$scen" >"$out" 2>"$WORK/$scen.stderr" </dev/null &
	HELPER_PID=$!
	wait "$HELPER_PID"
	rc=$?
	HELPER_PID=""
	while IFS= read -r line; do
		case "$line" in
		"ok - "*)
			N=$((N + 1)) got=$((got + 1))
			printf 'ok %d - %s\n' "$N" "${line#ok - }"
			;;
		"not ok - "*)
			N=$((N + 1)) got=$((got + 1)) bad=$((bad + 1)) FAILS=$((FAILS + 1))
			printf 'not ok %d - %s\n' "$N" "${line#not ok - }"
			;;
		*) printf '# %s\n' "${line#\# }" ;;
		esac
	done <"$out"
	while ((got < want)); do
		N=$((N + 1)) got=$((got + 1)) bad=$((bad + 1)) FAILS=$((FAILS + 1))
		printf 'not ok %d - %s: check did not report (helper exit %d%s)\n' "$N" "$scen" "$rc" \
			"$( ((rc == 124)) && echo ", timed out after $limit s")"
	done
	if ((bad > 0)); then
		KEEP=1
		diag "$scen: helper's log (tail):"
		diag "$(tail -n 25 "$WORK/$scen.stderr")"
	fi
	echo "# $scen: $((SECONDS - t0)) s"
}
