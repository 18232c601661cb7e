/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CAPWAP (RFC 5415): the data channel (UDP 5247) carries 802.3 frames or
 * native frames of the wireless binding (802.11, RFC 5416); the control
 * channel (UDP 5246) is only named. DTLS-protected datagrams and fragments
 * (which Wireshark reassembles; a single frame cannot) are not looked into.
 *
 * Like Wireshark by default, the 802.11 frame control field is taken as
 * byte-swapped, which is how Cisco access points send it.
 */
#include "dissect.h"

#define CAPWAP_T 0x0100 /* native frame of the binding, not 802.3 */
#define CAPWAP_F 0x0080 /* fragment */
#define CAPWAP_K 0x0008 /* data channel keep-alive */
#define WBID_IEEE80211 1

static void tree_capwap(struct wl_dctx *d, const struct cursor *c, uint8_t preamble, uint32_t word,
			unsigned hlen, unsigned wbid, unsigned flags)
{
	wl_tree_uint(d, c, 0, 1, "Version", preamble >> 4);
	wl_tree_uint(d, c, 0, 1, "Type", preamble & 0x0f);
	wl_tree_uint(d, c, 1, 1, "Header length (bytes)", (uint64_t)hlen * 4);
	wl_tree_uint(d, c, 1, 2, "Radio ID", word >> 14 & 0x1f);
	wl_tree_named(d, c, 2, 1, "Wireless binding ID", wbid, wbid == WBID_IEEE80211 ? "IEEE 802.11" : NULL);
	wl_tree_hex(d, c, 2, 2, "Flags", flags);
	wl_tree_flag(d, c, 2, 2, "Native frame (T)", flags, CAPWAP_T);
	wl_tree_flag(d, c, 2, 2, "Fragment (F)", flags, CAPWAP_F);
	wl_tree_flag(d, c, 2, 2, "Keep-alive (K)", flags, CAPWAP_K);
}

/*
 * Preamble (version, type: 1 is DTLS), then a 24-bit word with the header
 * length in 4-byte words (preamble included), radio id, binding and flags.
 */
int wl_decode_capwap_data(struct wl_dctx *d, struct cursor *c)
{
	uint8_t preamble;
	uint32_t word;

	wl_enter(d, WL_P_CAPWAP_DATA, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_CAPWAP_DATA, "CAPWAP Data", c);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "CAPWAP-Data");
	if (cur_u8(c, &preamble) < 0)
		return wl_fail_short(d, c);
	if ((preamble & 0x0f) == 1)
		return 0; /* DTLS */
	if (cur_be24(c, &word) < 0)
		return wl_fail_short(d, c);
	unsigned hlen = word >> 19, wbid = word >> 9 & 0x1f, flags = word & 0x1ff;

	if (d->tree)
		tree_capwap(d, c, preamble, word, hlen, wbid, flags);
	if (flags & CAPWAP_K)
		wl_sb_str(&info, " Keep-Alive");
	if (hlen * 4 < 8)
		return wl_fail(d, -EBADMSG); /* shorter than the fixed header */
	if (cur_skip(c, (size_t)hlen * 4 - 4) < 0)
		return wl_fail_short(d, c);
	if (flags & CAPWAP_F) {
		uint16_t id = 0, offset = 0;

		cur_peek_be16(c, 4, &id);
		cur_peek_be16(c, 6, &offset);
		wl_sb_str(&info, " (Fragment ID: ");
		wl_sb_u64(&info, id);
		wl_sb_str(&info, ", Fragment Offset: ");
		wl_sb_u64(&info, (uint64_t)(offset >> 3) * 8);
		wl_sb_char(&info, ')');
		return 0;
	}
	if (flags & CAPWAP_K)
		return 0;
	struct cursor payload = cur_rest(c);
	if (!(flags & CAPWAP_T))
		return wl_dispatch_ethertype(d, 0x6558, &payload);
	return wbid == WBID_IEEE80211 ? wl_decode_wlan_frame(d, &payload, WL_WLAN_SWAPPED_FC) : 0;
}

#define LWAPP_CONTROL_PORT 12223
#define LWAPP_FLAG_C 0x04 /* a control message, not an 802.11 frame */

/*
 * LWAPP (CAPWAP's predecessor, on Cisco controllers): flags, fragment id,
 * length, RSSI and SNR, then an 802.11 frame (frame control not swapped,
 * as Wireshark's default says) or a control message. Datagrams to 12223
 * start with the destination MAC.
 */
int wl_decode_lwapp(struct wl_dctx *d, struct cursor *c)
{
	uint8_t flags;

	wl_enter(d, WL_P_LWAPP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_LWAPP, "LWAPP Encapsulated Packet", c);
	if (d->udp_dport == LWAPP_CONTROL_PORT && cur_skip(c, 6) < 0)
		return wl_fail_short(d, c);
	size_t at = c->off;

	if (cur_u8(c, &flags) < 0 || cur_skip(c, 5) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		if (at)
			wl_tree_mac(d, c, 0, "Destination");
		wl_tree_uint(d, c, at, 1, "Version", flags >> 6);
		wl_tree_uint(d, c, at, 1, "Slot id", flags >> 3 & 7);
		wl_tree_flag(d, c, at, 1, "Control", flags, LWAPP_FLAG_C);
	}
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, (flags & LWAPP_FLAG_C) ? "LWAPP IP or Layer 2 Control Packet" :
						 "LWAPP IP or Layer 2 802.11 Packet");
	if (flags & LWAPP_FLAG_C)
		return 0;
	struct cursor frame = cur_rest(c);
	return wl_decode_wlan(d, &frame);
}
