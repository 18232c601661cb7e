/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Network Service Header (RFC 8300) and VXLAN-GPE (draft-ietf-nvo3-
 * vxlan-gpe), which share one "next protocol" numbering: 1 IPv4, 2 IPv6,
 * 3 Ethernet, 4 NSH, 5 MPLS. Each is mapped to its ethertype, so the next
 * layer goes through the ethertype table (and its depth bound).
 */
#include "dissect.h"

#define NSH_MD_TYPE_1 1
#define NSH_MD_TYPE_2 2

static const uint16_t next_ethertype[] = {
	[1] = 0x0800, [2] = 0x86dd, [3] = 0x6558, [4] = 0x894f, [5] = 0x8847,
};

static const char *const next_names[] = {
	[1] = "IPv4", [2] = "IPv6", [3] = "Ethernet", [4] = "NSH", [5] = "MPLS",
};

static const char *next_name(uint8_t next)
{
	return next < sizeof(next_names) / sizeof(next_names[0]) ? next_names[next] : NULL;
}

/* Anything but the five known values is left undecoded, as tshark does. */
static int dispatch_next(struct wl_dctx *d, uint8_t next, struct cursor *c)
{
	struct cursor payload = cur_rest(c);

	if (next == 0 || next >= sizeof(next_ethertype) / sizeof(next_ethertype[0]))
		return 0;
	return wl_dispatch_ethertype(d, next_ethertype[next], &payload);
}

/*
 * The header length is in 4-byte words. As Wireshark does, an MD type 1
 * header is taken as its fixed 24 bytes whatever it says, and others as at
 * least their base and service path headers.
 */
static size_t nsh_length(uint8_t md_type, uint16_t base)
{
	size_t len = (size_t)(base & 0x3f) * 4;

	if (md_type == NSH_MD_TYPE_1)
		return 24;
	if (md_type == NSH_MD_TYPE_2)
		return len < 8 ? 8 : len;
	return len < 4 ? 4 : len;
}

static void tree_nsh(struct wl_dctx *d, const struct cursor *c, uint16_t base, uint8_t md_type,
		     uint8_t next, uint32_t path, size_t len)
{
	wl_tree_uint(d, c, 0, 1, "Version", base >> 14);
	wl_tree_uint(d, c, 0, 1, "O bit", base >> 13 & 1);
	wl_tree_uint(d, c, 0, 2, "Time to live", base >> 6 & 0x3f);
	wl_tree_uint(d, c, 1, 1, "Length (bytes)", (uint64_t)(base & 0x3f) * 4);
	wl_tree_uint(d, c, 2, 1, "MD type", md_type);
	wl_tree_named(d, c, 3, 1, "Next protocol", next, next_name(next));
	wl_tree_uint(d, c, 4, 3, "Service path identifier", path >> 8);
	wl_tree_uint(d, c, 7, 1, "Service index", path & 0xff);
	if (len > 8)
		wl_tree_bytes(d, c, 8, len - 8, "Context headers");
}

int wl_decode_nsh(struct wl_dctx *d, struct cursor *c)
{
	uint16_t base;
	uint8_t md_type, next;
	uint32_t path;

	wl_enter(d, WL_P_NSH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_NSH, "Network Service Header", c);
	if (cur_be16(c, &base) < 0 || cur_u8(c, &md_type) < 0 ||
	    cur_u8(c, &next) < 0 || cur_be32(c, &path) < 0)
		return wl_fail_short(d, c);
	size_t len = nsh_length(md_type, base);

	if (d->tree)
		tree_nsh(d, c, base, md_type, next, path, len);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "Network Service Header SPI ");
	wl_sb_u64(&info, path >> 8);
	wl_sb_str(&info, " SI ");
	wl_sb_u64(&info, path & 0xff);

	if (cur_skip(c, len - 8) < 0)
		return wl_fail_short(d, c);
	return dispatch_next(d, next, c);
}

/* Flags, 16 reserved bits, next protocol, VNI, 8 reserved bits. */
int wl_decode_vxlan_gpe(struct wl_dctx *d, struct cursor *c)
{
	uint8_t flags, next;
	uint32_t vni;

	wl_enter(d, WL_P_VXLAN_GPE, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_VXLAN_GPE, "Virtual eXtensible LAN - Generic Protocol Extension", c);
	if (cur_u8(c, &flags) < 0 || cur_skip(c, 2) < 0 || cur_u8(c, &next) < 0 ||
	    cur_be24(c, &vni) < 0 || cur_skip(c, 1) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		wl_tree_hex(d, c, 0, 1, "Flags", flags);
		wl_tree_flag(d, c, 0, 1, "VNI present", flags, 0x08);
		wl_tree_flag(d, c, 0, 1, "Next protocol present", flags, 0x04);
		wl_tree_flag(d, c, 0, 1, "OAM", flags, 0x01);
		wl_tree_named(d, c, 3, 1, "Next protocol", next, next_name(next));
		wl_tree_uint(d, c, 4, 3, "VXLAN Network Identifier (VNI)", vni);
	}
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "VXLAN-GPE VNI ");
	wl_sb_u64(&info, vni);
	return dispatch_next(d, next, c);
}
