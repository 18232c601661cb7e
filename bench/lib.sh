# shellcheck shell=bash
# Shared by the bench/ scripts: the benchmark capture and the release build.
# Source it after scripts/lib.sh.

readonly BENCH_ZST="$WL_SHARED/pcap-corpus/bench.pcap.zst"
readonly CACHE_DIR="$WL_ROOT/build/bench"
readonly BENCH="$CACHE_DIR/bench.pcap"
readonly BENCH_SIZE=231692866
readonly BENCH_PACKETS=1004047 # corpus README
readonly RELEASE="$WL_ROOT/build-release"
readonly CAPD="$RELEASE/capd/wlite-capd"
readonly TAP="$RELEASE/tools/wlite-tap"

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

ensure_bench_pcap() {
	if [[ "$(file_size "$BENCH")" == "$BENCH_SIZE" ]]; then
		return 0
	fi
	[[ -f "$BENCH_ZST" ]] || wl_die "no $BENCH_ZST (set WLITE_SHARED)"
	mkdir -p "$CACHE_DIR"
	wl_log "decompressing $BENCH_ZST into $BENCH (once)"
	# Through a temporary file, so that an interrupted run leaves no short cache.
	zstd -q -d -f "$BENCH_ZST" -o "$BENCH.tmp"
	[[ "$(file_size "$BENCH.tmp")" == "$BENCH_SIZE" ]] ||
		wl_die "$BENCH.tmp has $(file_size "$BENCH.tmp") bytes, expected $BENCH_SIZE"
	mv -f "$BENCH.tmp" "$BENCH"
}

build_release() {
	# No unit tests here: the benchmark needs only the binaries.
	wl_meson_setup "$RELEASE" -Dbuildtype=release -Db_ndebug=true -Dtests=disabled >&2 ||
		wl_die "meson setup of $RELEASE failed"
	wl_compile "$RELEASE" >&2 || wl_die "release build failed"
	[[ -x "$CAPD" ]] || wl_die "$CAPD was not built"
}
