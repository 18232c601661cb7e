# shellcheck shell=bash
# TAP for the integration scripts: why() records what went wrong in the
# current check, report() ends it as ok or not ok (with the reasons as
# diagnostics). Sourced, not run: scripts/test runs only ../*.sh.

N=0
FAILS=0
WHY=""
diag() { [[ -n "$1" ]] && sed -e 's/^/# /' <<<"${1%$'\n'}"; }
# why TEXT: records a reason the current check fails.
why() { WHY+="$*"$'\n'; }
# report DESC: ends the current check: ok if nothing went wrong.
report() {
	N=$((N + 1))
	if [[ -z "$WHY" ]]; then
		printf 'ok %d - %s\n' "$N" "$1"
	else
		FAILS=$((FAILS + 1))
		printf 'not ok %d - %s\n' "$N" "$1"
		diag "$WHY"
	fi
	WHY=""
}

# tap_pad_plan: in a script's cleanup(), reports each check of the plan
# (PLAN) that a script stopped early never reached, as not ok.
tap_pad_plan() {
	while ((N < PLAN)); do
		WHY="not run: the script stopped early"
		report "(not run)"
	done
}

# tap_traps: the script's cleanup() runs when it exits, and on INT, TERM and
# HUP, which then end it with status 1.
# shellcheck disable=SC2317 # called by the traps
tap_on_signal() {
	echo "# interrupted by SIG$1"
	cleanup
	exit 1
}
tap_traps() {
	trap cleanup EXIT
	trap 'tap_on_signal INT' INT
	trap 'tap_on_signal TERM' TERM
	trap 'tap_on_signal HUP' HUP
}
