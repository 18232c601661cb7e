# shellcheck shell=bash
# Shared by scripts/test, scripts/run, scripts/fuzz and bench/decode: the one
# package list, dependency installation, logging and meson set-up.
# Source it after setting WL_PROG (the name used in messages).

# Everything a fresh Debian 12 machine needs to build, test, run and benchmark
# wlite. Keep it the only list: scripts/test and scripts/run both install from it.
WL_PACKAGES=(
	meson ninja-build pkg-config gcc clang libclang-rt-14-dev
	libpcap-dev libevent-dev libnanomsg-dev nanomsg-utils libcjson-dev
	libmaxminddb-dev mmdb-bin libcivetweb-dev libcmocka-dev libcap-dev libsystemd-dev systemd
	libsqlite3-dev sqlite3
	tshark tcpdump tcpreplay zstd iproute2 iputils-ping python3 curl
	# tests/integration/boot.sh: boots the units in a debootstrapped container.
	systemd-container debootstrap
	# tests/integration/flows.sh: segment drops (nft) and no veth offloads (ethtool -K).
	nftables ethtool
	# tests/integration/ipfix.sh: IPFIX collector (nfcapd, nfdump) and a second exporter.
	nfdump softflowd
	# tests/integration/fleet.sh: the sensors' TLS tunnels (Debian's stunnel4 only enables
	# stunnel.target, which starts a stunnel per /etc/stunnel/*.conf: none here) and certificates.
	stunnel4 openssl
	# tests/integration/metrics.sh: Prometheus scraping webd's /metrics, nginx as its TLS front;
	# the test runs its own of each on free ports (and see WL_QUIET_SERVICES).
	prometheus nginx
	# tests/integration/quic.sh: real QUIC handshakes (ngtcp2's gtlsserver and gtlsclient).
	ngtcp2-client ngtcp2-server
	# capd's TLS fingerprints and QUIC decryption: OpenSSL's libcrypto.
	libssl-dev
)

# Daemons Debian starts when their package is installed, which only the tests
# use, each starting its own on a free port: nginx (port 80), prometheus
# (9090) and the node exporter it recommends (9100), ngtcp2-server's ngtcp2d
# (7777). Those an installation here brought are stopped and disabled:
# installing opens no port. PKG, or PKG:SERVICE when the names differ.
WL_QUIET_SERVICES=(nginx prometheus prometheus-node-exporter ngtcp2-server:ngtcp2d)

: "${WL_PROG:=wlite}"
WL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The shared folder (corpus, tools) is a sibling of the repository.
# shellcheck disable=SC2034 # used by the scripts that source this file
WL_SHARED="${WLITE_SHARED:-$WL_ROOT/../shared}"

wl_log() { printf '%s: %s\n' "$WL_PROG" "$*" >&2; }
wl_die() {
	wl_log "error: $*"
	exit 1
}

# Prints the packages of "$@" that dpkg does not list as installed.
wl_missing_packages() {
	local pkg status
	for pkg in "$@"; do
		status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
		[[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
	done
}

# Stops and disables the services of the packages of "$@" that are installed now.
wl_quiet_services() {
	local pkg svc
	for pkg in "$@"; do
		svc="${pkg#*:}" pkg="${pkg%%:*}"
		[[ -z "$(wl_missing_packages "$pkg")" ]] || continue
		if [[ -d /run/systemd/system ]]; then
			systemctl disable --now "$svc" >/dev/null 2>&1
		elif [[ -x "/etc/init.d/$svc" ]]; then
			"/etc/init.d/$svc" stop >/dev/null 2>&1
			update-rc.d "$svc" disable >/dev/null 2>&1
		fi
	done
	return 0
}

# Installs what is missing of "$@" (default: WL_PACKAGES). A machine that has
# everything never touches the network; otherwise apt-get update runs once.
wl_install_packages() {
	local -a want missing quiet
	if (($# > 0)); then want=("$@"); else want=("${WL_PACKAGES[@]}"); fi
	mapfile -t missing < <(wl_missing_packages "${want[@]}")
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	wl_log "installing missing packages: ${missing[*]}"
	if [[ $EUID -ne 0 ]]; then
		wl_log "error: installing packages needs root (run as root, or: apt-get install ${missing[*]})"
		return 1
	fi
	if [[ -z "${WL_APT_UPDATED:-}" ]]; then
		apt-get update || return 1
		WL_APT_UPDATED=1
	fi
	mapfile -t quiet < <(for q in "${WL_QUIET_SERVICES[@]}"; do
		[[ -z "$(wl_missing_packages "${q%%:*}")" ]] || printf '%s\n' "$q"
	done)
	# noninteractive: tshark's debconf question would otherwise block.
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" || return 1
	wl_quiet_services "${quiet[@]}"
}

# wl_meson_setup BUILDDIR [meson options...]: configures a build directory, or
# reconfigures it with the given options if it already exists, so that running
# a script twice gives the same configuration.
wl_meson_setup() {
	local dir="$1"
	shift
	if [[ -f "$dir/meson-private/coredata.dat" ]]; then
		if meson setup --reconfigure "$dir" "$@"; then
			return 0
		fi
		# A meson upgrade can make an old build dir unreadable; start afresh once.
		wl_log "reconfiguring $dir failed; retrying with --wipe"
		meson setup --wipe "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

# The free country database the geolocation tests read (flat layout; CC BY
# 4.0, credit to nro.net), from the npm registry. Its publisher keeps only
# the latest version on the registry, so when the pinned one is gone the
# latest is installed instead (the tests only rely on long-stable answers).
WL_GEO_DB_PKG="@ip-location-db/geo-whois-asn-country-mmdb"
WL_GEO_DB_VERSION="2.3.2026061719"
WL_GEO_DIR="$WL_ROOT/build/geo"
WL_GEO_COUNTRY_DB="$WL_GEO_DIR/node_modules/$WL_GEO_DB_PKG/geo-whois-asn-country.mmdb"

wl_npm_install() {
	npm install --no-audit --no-fund --update-notifier=false --prefix "$WL_GEO_DIR" "$1"
}

# Installs the country database into build/geo unless it is there already;
# installs Debian's nodejs and npm first if there is no npm.
wl_install_geo_db() {
	if [[ -f "$WL_GEO_COUNTRY_DB" ]]; then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		wl_install_packages nodejs npm || return 1
	fi
	mkdir -p "$WL_GEO_DIR" || return 1
	wl_log "installing $WL_GEO_DB_PKG@$WL_GEO_DB_VERSION into $WL_GEO_DIR"
	if ! wl_npm_install "$WL_GEO_DB_PKG@$WL_GEO_DB_VERSION"; then
		wl_log "warning: $WL_GEO_DB_PKG@$WL_GEO_DB_VERSION is no longer on the registry; installing the latest"
		wl_npm_install "$WL_GEO_DB_PKG" || return 1
	fi
	[[ -f "$WL_GEO_COUNTRY_DB" ]]
}

# The unprivileged user capd drops to (and whose group may use its sockets).
wl_ensure_user() {
	local name=wlite
	if getent passwd "$name" >/dev/null && getent group "$name" >/dev/null; then
		return 0
	fi
	[[ $EUID -eq 0 ]] || { wl_log "the '$name' user does not exist and creating it needs root"; return 1; }
	getent group "$name" >/dev/null || groupadd --system "$name" || return 1
	if ! getent passwd "$name" >/dev/null; then
		wl_log "creating system user $name"
		useradd --system --no-create-home --shell /usr/sbin/nologin -g "$name" "$name" || return 1
	fi
}

# The kernel settings the daemons need: systemd/wlite.sysctl, which meson
# installs as sysctl.d/60-wlite.conf (systemd-sysctl applies it at boot).
# They are global, so a network namespace or a container sees the host's
# and cannot set them: scripts/run and scripts/test raise them here, on the
# host, before anything runs. A value is raised when lower and never lowered,
# so running this again changes nothing. Returns 1 if one could not be raised.
WL_SYSCTL_FILE="$WL_ROOT/systemd/wlite.sysctl"
wl_apply_sysctl() {
	local key value path current failed=0
	while read -r key value; do
		path="/proc/sys/${key//.//}"
		if ! current="$(cat "$path" 2>/dev/null)" || ! [[ "$current" =~ ^[0-9]+$ ]]; then
			wl_log "warning: cannot read $key ($path)"
			failed=1
		elif ((current < value)); then
			if (echo "$value" >"$path") 2>/dev/null; then
				wl_log "raised $key from $current to $value ($WL_SYSCTL_FILE)"
			else
				wl_log "warning: cannot raise $key from $current to $value: run as root on the host," \
					"or: sysctl -p $WL_SYSCTL_FILE"
				failed=1
			fi
		fi
	done < <(sed -n 's/^[[:space:]]*\([a-z0-9_.]*\)[[:space:]]*=[[:space:]]*\([0-9][0-9]*\)[[:space:]]*$/\1 \2/p' "$WL_SYSCTL_FILE")
	return "$failed"
}

# Parallel jobs for builds: the machines are shared, so never more than 2.
WL_JOBS="${WLITE_JOBS:-2}"
if ! [[ "$WL_JOBS" =~ ^[1-9][0-9]*$ ]] || ((WL_JOBS > 2)); then WL_JOBS=2; fi

wl_compile() {
	meson compile -C "$1" -j "$WL_JOBS"
}
