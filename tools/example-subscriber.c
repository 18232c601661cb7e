/* A complete wlite subscriber: prints source, destination and protocol of each packet. */
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <wlite-wire.h>

int main(int argc, char **argv)
{
	int sock = nn_socket(AF_SP, NN_SUB);
	nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, "pkt", 4); /* topic with its NUL */
	nn_connect(sock, argc > 1 ? argv[1] : "ipc:///run/wlite/capd.sock");
	for (;;) {
		char *msg, src[64], dst[64];
		int n = nn_recv(sock, &msg, NN_MSG, 0);
		struct wl_wire_reader r;
		static struct wl_wire_record rec;
		if (n >= 4 && wl_wire_reader_init(&r, (uint8_t *)msg + 4, (size_t)n - 4) == 0)
			while (wl_wire_next(&r, &rec) == 1)
				printf("%llu %s -> %s %s\n", (unsigned long long)rec.pkt.seq,
				       wl_addr_str(&rec.pkt.outer.src, src, sizeof(src)),
				       wl_addr_str(&rec.pkt.outer.dst, dst, sizeof(dst)), wl_proto_name(rec.pkt.proto));
		nn_freemsg(msg);
	}
}
