/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * harness.h - drives the engine with BPF_PROG_TEST_RUN: one controller
 * byte stream, cut into frames, sent in any order; what the host is told
 * (records, frame metadata, resync requests) is collected for checking.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <criterion/criterion.h>
#include "libddp.h"
#include "pkt.h"
#include "pdu.h"

/* What the test is doing, printed with every failed check: the fixture
 * and mode, or the random seed and stream. */
extern char eng_where[200];
#define eng_assert(cond, fmt, ...) \
	cr_assert((cond), "[%s] " fmt, eng_where, ##__VA_ARGS__)

#define ENG_FILL 0xee /* untouched buffer bytes */
#define ENG_MAX_EVENTS 256

#define ENG_MAX_TAGS 64

/* A tag registration as the host made it. */
struct eng_tag {
	__u16 cid;
	__u32 tag;
	bool live;
	__u32 nsegs, len;
	struct ddp_seg segs[DDP_MAX_SEGS];
};

struct eng {
	struct ddp_dev *d;
	struct ddp_limits lim;
	int prog;
	struct pkt_flow fl;
	struct pdu_opts o;
	__u32 sk_flags;
	__u32 threshold; /* sk_add's io_threshold, 0: the engine's */
	__u32 max_data; /* sk_add's, 0: the engine's */
	__u32 flow_id;
	__u32 isn; /* TCP seq of stream byte 0 */
	struct stream s; /* what the controller sends */
	__u8 *reported; /* per stream byte: reported placed (metadata) */
	__u8 *verdict_at; /* per stream offset: the verdict of the PDU that
			   * ends there, as frame metadata said */
	struct eng_tag tags[ENG_MAX_TAGS];
	int ntags;
	int *pdu_tag; /* per PDU: the registration live at its header */
	size_t pdu_tag_n;
	struct ddp_event ev[ENG_MAX_EVENTS];
	int nev;
	__u64 epoch;
	int frames;
	bool xsk_bound; /* an AF_XDP socket in ddp_xsks: AF_XDP flows'
			 * frames are redirected */
	bool no_socket; /* AF_XDP flows without one */
	__u32 dead[64]; /* flows deleted, not yet released */
	__u32 ndead;
	int verdict; /* of the last frame */
	struct ddp_stats base; /* the counts when the flow was offloaded */
};

/* The ring of records of the flow under test */
static inline __u32 eng_rec_ring(const struct eng *e)
{
	return ddp_flow_mem(e->d, e->flow_id)->rec_ring;
}

/* Run a shell command; it must succeed. */
void eng_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A fresh engine (small limits) with the region filled with ENG_FILL. */
void eng_open(struct eng *e, __u32 buf_size);
/* Those small limits. */
void eng_limits(struct ddp_limits *lim, __u32 buf_size);
void eng_open_lim(struct eng *e, const struct ddp_limits *lim);
/* Delete the flow (its tags with it), start the next one: a new stream,
 * a new local port, the region refilled. */
void eng_next_flow(struct eng *e, __u32 sk_flags);
/* Tears everything down and checks that nothing leaked. */
void eng_close(struct eng *e);

/* Offload the flow e->fl with e->o and flags; the stream starts at isn.
 * An AF_XDP flow gets a socket in ddp_xsks unless e->no_socket. */
void eng_flow(struct eng *e, __u32 sk_flags);
/* The flow's state writable, as the engine has it: to play what the
 * engine does on another CPU. */
struct ddp_flow *eng_flow_rw(struct eng *e);
/* Put this process's AF_XDP socket in ddp_xsks, or take it out. */
void eng_xsk_bind(struct eng *e, bool on);
/* Tag `tag` for cid: one segment at addr, or nsegs equal ones spread
 * `gap` bytes apart. */
void eng_tag(struct eng *e, __u16 cid, __u32 addr, __u32 len);
void eng_tag_sg(struct eng *e, __u16 cid, __u32 addr, __u32 len, __u32 nsegs,
		__u32 gap);
/* Teardown, sync and release: the tag's buffer is the host's again. */
void eng_untag(struct eng *e, __u16 cid);

/* Send stream bytes [off, off + len) as one frame; checks the verdict
 * and that the frame came out unchanged. Returns the verdict. */
int eng_send(struct eng *e, size_t off, size_t len);
/* Bytes of a frame's payload changed on the way (its checksum is the
 * original's): at[i] ^= xor[i]. */
struct eng_patch {
	__u32 n;
	__u32 at[4];
	__u8 xor [4];
};
/* The same frame, corrupted: the transport drops it, and its metadata is
 * not believed. */
int eng_send_corrupt(struct eng *e, size_t off, size_t len,
		     const struct eng_patch *patch);
/* Whether TCP's checksum catches patch on the frame of [off, off + len):
 * two changes can cancel out in its sum, and TCP then takes the frame. */
bool eng_patch_caught(struct eng *e, size_t off, size_t len,
		      const struct eng_patch *patch);
/* Send [from, to) in frames of at most mss bytes. */
void eng_send_all(struct eng *e, size_t from, size_t to, size_t mss);
/* Send an arbitrary frame (other flows); returns the verdict. */
int eng_send_frame(struct eng *e, const __u8 *frame, size_t len);

/* Drain resync requests into e->ev; returns how many came. */
int eng_events(struct eng *e);
/* Answer request i truthfully (confirm iff a PDU starts there). */
void eng_answer(struct eng *e, int i);
void eng_reply(struct eng *e, __u32 seq, __u32 req_id, int confirm);

struct ddp_stats eng_stats(struct eng *e);
/* What the engine counted since the flow was offloaded. */
struct ddp_stats eng_flow_stats(struct eng *e);
/* Stream offset of TCP sequence number seq. */
size_t eng_off(const struct eng *e, __u32 seq);

/* Bytes of C2HData PDU i (its index among all PDUs of the stream) that
 * the host was told are placed, by records or frame metadata, checking
 * each one against the stream and the buffer. */
__u32 eng_reported(struct eng *e, size_t pdu);
/* The data digest verdict (enum ddp_verdict) the host is given for
 * C2HData PDU i: by frame metadata (AF_XDP, as the engine sent it), or
 * by the flow's verdicts under the library's trust rules (records). */
int eng_verdict(struct eng *e, size_t pdu);
/* PDU i's DDGST in the stream matches its data there. */
bool eng_digest_right(const struct eng *e, size_t pdu);
/* Stream bytes reported placed that are not C2HData data: must be 0. */
size_t eng_reported_outside(struct eng *e);
/* Bytes of the region outside every tag ever registered that differ
 * from ENG_FILL: must stay 0. */
size_t eng_stray_bytes(struct eng *e);
/* Bytes of PDU i's data that sit at their place in its tag's buffer. */
__u32 eng_in_buffer(struct eng *e, size_t pdu);
/* The stream index of the n-th PDU of a type. */
size_t eng_pdu(const struct eng *e, __u8 type, int n);

#endif /* TESTS_HARNESS_H */
