#!/usr/bin/env bash
# tests/integration/tls.sh: TLS fingerprints and the handshake reassembly
# against tshark 4.0 (issue 14, "Fingerprints").
#
# lib/tls_check.py runs tshark twice on every dev-corpus capture with TLS,
# with TCP reassembly off (the corpus oracle's setting) and on, and
# `wlite-capd --read FILE --json` and `--flows`: JA3, JA3S, SNI and the
# ClientHello's ALPN frame by frame (the frames that complete hellos spread
# over several segments as tshark with reassembly shows them), and the JA4
# and JA3S each flow keeps. lib/tls_hellos.py builds, with scapy, ClientHellos
# split over two and three segments (post-quantum key share, GREASE, IPv6, a
# retransmitted segment) and a ServerHello record spanning segments, checked
# the same way, their JA4 against FoxIO's definition computed in Python.
#
# Output: TAP. No network, no root needed. About 1 to 3 minutes (tshark).
# Environment: WLITE_CAPD (default build/capd/wlite-capd), WLITE_SHARED.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CAPD="${WLITE_CAPD:-$ROOT/build/capd/wlite-capd}"
CORPUS="${WLITE_SHARED:-$ROOT/../shared}/pcap-corpus/dev"
# Debian's python3, which sees python3-scapy (a pyenv python may not).
PY=/usr/bin/python3

if [[ ! -x "$CAPD" ]]; then
	echo "Bail out! $CAPD is not built"
	exit 1
fi
if ! command -v tshark >/dev/null || ! "$PY" -c 'import scapy' 2>/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y tshark python3-scapy >/dev/null 2>&1 ||
		{ echo "Bail out! tshark and python3-scapy are needed"; exit 1; }
fi
if [[ ! -d "$CORPUS" ]]; then
	echo "Bail out! no corpus at $CORPUS"
	exit 1
fi
WORK="$(mktemp -d /tmp/wlite-tls.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# capd --read drops to wlite (or nobody) when run as root: the captures must be readable.
chmod 755 "$WORK"
WIRESHARK_CONFIG_DIR="$WORK/tshark-profile" "$PY" "$HERE/lib/tls_check.py" "$CAPD" "$CORPUS" "$WORK"
