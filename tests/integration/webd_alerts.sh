#!/usr/bin/env bash
# tests/integration/webd_alerts.sh: webd's live rates and its alerts from
# flows, end to end, against real capd replays (--read only, never a live
# interface). The checks are in webd_alerts.py, on webd_checks.py's harness:
#
#   rates   a capture replayed at --speed 10: the headline rate follows what
#           arrives (it read a tenth of it on the capture's clock), the
#           capture clock's rates are there too, each labelled
#   flows   a crafted capture of port scans, a host sweep, SYN floods and a
#           lossy TCP flow, each episode repeated inside the cooldown and
#           after it, into a webd that gets packets and one that gets flow
#           reports only (--publish-flows): one alert per episode, none
#           inside the cooldown, all cleared by the end
#   quiet   dev-corpus captures at the default limits: no scan or SYN flood
#           alert, retransmission alerts only where capd --flows shows them
#
# Output: TAP on stdout; exits 1 if anything failed. Needs root (webd runs as
# the wlite user). About two minutes. On failure the daemons' logs are kept
# and their path printed.
#
# Environment: WLITE_WEBD, WLITE_CAPD, WLITE_BUILD, WLITE_SHARED (default:
# the repository's sibling ../shared).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$ROOT/../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
WEBD="${WLITE_WEBD:-$BUILD/webd/wlite-webd}"
CAPD="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
CORPUS="$SHARED/pcap-corpus/dev"
CHECKS="$HERE/webd_alerts.py"

SCENARIOS=(rates flows quiet)
declare -A LIMIT=([rates]=60 [flows]=120 [quiet]=150)

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"
# shellcheck source=tests/integration/lib/scenarios.sh
source "$HERE/lib/scenarios.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (to run webd as the wlite user)"
	exit 0
fi
missing=""
for f in "$WEBD" "$CAPD"; do [[ -x "$f" ]] || missing+=" $f"; done
for c in python3 setpriv; do command -v "$c" >/dev/null 2>&1 || missing+=" $c"; done
[[ -f "$CORPUS/zeek-wikipedia.pcap" ]] || missing+=" $CORPUS (set WLITE_SHARED)"
if [[ -n "$missing" ]]; then
	echo "1..1"
	echo "not ok 1 - webd_alerts prerequisites"
	echo "# missing:$missing"
	exit 1
fi
if ! getent passwd wlite >/dev/null; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "1..1"
		echo "not ok 1 - cannot create the wlite user"
		exit 1
	}
fi

WORK="$(mktemp -d /tmp/wlite-webd-alerts.XXXXXX)"
chgrp wlite "$WORK" && chmod 2770 "$WORK"
trap scenarios_cleanup EXIT
trap 'exit 130' INT TERM

if ! PLANNED="$(python3 "$CHECKS" --count all)"; then
	echo "1..1"
	echo "not ok 1 - $CHECKS --count failed"
	exit 1
fi
echo "1..$PLANNED"

export WLW_WORK="$WORK" WLW_WEBD="$WEBD" WLW_CAPD="$CAPD" WLW_CORPUS="$CORPUS"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

for scen in "${SCENARIOS[@]}"; do
	run_scenario "$scen" "$CHECKS" "${LIMIT[$scen]}"
done

((FAILS == 0)) || exit 1
exit 0
