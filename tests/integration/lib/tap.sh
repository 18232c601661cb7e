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
