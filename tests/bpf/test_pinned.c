// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_pinned.c - tags whose buffer is the host's own memory, pinned by
 * kmod_glue's module: placed byte by byte where the segments say and
 * nowhere else, nothing placed once unpinned, and only the pins of the
 * caller usable. Where the module is not loaded (this machine), the
 * library refuses a pin and says why; the guests of make test-kernel load
 * it and run the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "fixtures.h"

#define BUF_LEN (5 * 4096)
#define BUF_SKEW 100 /* the pin starts inside a page */
#define READ_LEN 12000

static bool kmod_loaded(void)
{
	return !access("/sys/kernel/btf/" DDP_KMOD_NAME, F_OK);
}

static void open_flow(struct eng *e, __u32 flags)
{
	struct ddp_limits lim;

	memset(e, 0, sizeof(*e));
	eng_limits(&lim, 1 << 20);
	eng_open_lim(e, &lim);
	pkt_flow_init(&e->fl, false, 4420, 40000);
	eng_flow(e, flags);
}

static __u8 *new_buf(void)
{
	__u8 *b = aligned_alloc(4096, BUF_LEN);

	cr_assert(b);
	memset(b, ENG_FILL, BUF_LEN);
	return b;
}

/* A read for cid whose data the caller gets in want[READ_LEN]. */
static void add_known_read(struct eng *e, __u16 cid, __u8 *want)
{
	gen_data(want, READ_LEN, cid * 7919u + e->s.len);
	add_read(e, cid, READ_LEN, 4000);
}

static void send_all(struct eng *e)
{
	eng_send_all(e, 0, e->s.len, 1448);
	eng_events(e);
}

Test(pinned, refused_without_the_module)
{
	struct ddp_seg seg = { .addr = 0, .len = 4096 };
	struct ddp_caps c;
	struct eng e;
	__u8 *b = new_buf();
	__u64 pin = 0;

	if (kmod_loaded())
		cr_skip_test("kmod_glue's module is loaded");
	open_flow(&e, DDP_SK_OFFLOAD | DDP_SK_RECORDS);
	ddp_dev_caps(e.d, &c);
	cr_assert(!c.pinned_buffers);
	cr_assert_eq(ddp_pin_buf(e.d, b, BUF_LEN, &pin), -EOPNOTSUPP);
	cr_assert(strstr(ddp_errmsg(e.d), "without kmod_glue's module"), "%s",
		  ddp_errmsg(e.d));
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, 1ull << 32 | 1, &seg,
				      1, NULL),
		     -EOPNOTSUPP, "%s", ddp_errmsg(e.d));
	eng_close(&e);
	free(b);
}

/* Two segments with a gap, across pages, the pin not page-aligned: the
 * data lands exactly there, every other byte untouched. */
static void placed_into_pin(__u32 flags)
{
	struct ddp_seg segs[2] = { { .addr = 0, .len = 5000 },
				   { .addr = 6000, .len = READ_LEN - 5000 } };
	__u8 *b = new_buf(), *p = b + BUF_SKEW, want[READ_LEN];
	struct ddp_stats st;
	struct ddp_caps c;
	struct eng e;
	__u64 pin;
	size_t i;

	open_flow(&e, flags);
	ddp_dev_caps(e.d, &c);
	cr_assert(c.pinned_buffers, "the module is loaded, no pins offered");
	cr_assert_eq(ddp_pin_buf(e.d, p, BUF_LEN - BUF_SKEW, &pin), 0, "%s",
		     ddp_errmsg(e.d));
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, pin, segs, 2, NULL), 0,
		     "%s", ddp_errmsg(e.d));
	add_known_read(&e, 1, want);
	send_all(&e);
	cr_assert_eq(memcmp(p, want, 5000), 0, "segment 0 wrong");
	cr_assert_eq(memcmp(p + 6000, want + 5000, READ_LEN - 5000), 0,
		     "segment 1 wrong");
	for (i = 0; i < BUF_LEN; i++) {
		size_t o = i - BUF_SKEW;

		if (i >= BUF_SKEW &&
		    (o < 5000 || (o >= 6000 && o < 6000 + READ_LEN - 5000)))
			continue;
		cr_assert_eq(b[i], ENG_FILL, "byte %zu written", i);
	}
	st = eng_stats(&e);
	cr_assert_eq(st.offload_bytes, READ_LEN);
	/* torn down at once (no placement running), then unpinned */
	cr_assert_eq(ddp_teardown(e.d, e.flow_id, 1, NULL), 1, "%s",
		     ddp_errmsg(e.d));
	cr_assert_eq(ddp_unpin_buf(e.d, pin), 0, "%s", ddp_errmsg(e.d));
	cr_assert_eq(ddp_unpin_buf(e.d, pin), -ENOENT);
	eng_close(&e);
	free(b);
}

Test(pinned, placed_into_a_pinned_buffer_kernel_socket)
{
	if (!kmod_loaded())
		cr_skip_test("kmod_glue's module is not loaded");
	placed_into_pin(DDP_SK_OFFLOAD | DDP_SK_RECORDS);
}

Test(pinned, placed_into_a_pinned_buffer_af_xdp)
{
	if (!kmod_loaded())
		cr_skip_test("kmod_glue's module is not loaded");
	placed_into_pin(DDP_SK_OFFLOAD | DDP_SK_XSK);
}

/* Unpinned while its tag is live: the engine writes none of its bytes. */
Test(pinned, nothing_placed_once_unpinned)
{
	struct ddp_seg seg = { .addr = 0, .len = READ_LEN };
	__u8 *b = new_buf(), want[READ_LEN];
	struct ddp_stats st;
	struct eng e;
	__u64 pin;
	size_t i;

	if (!kmod_loaded())
		cr_skip_test("kmod_glue's module is not loaded");
	open_flow(&e, DDP_SK_OFFLOAD | DDP_SK_RECORDS);
	cr_assert_eq(ddp_pin_buf(e.d, b, BUF_LEN, &pin), 0, "%s",
		     ddp_errmsg(e.d));
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, pin, &seg, 1, NULL), 0,
		     "%s", ddp_errmsg(e.d));
	cr_assert_eq(ddp_unpin_buf(e.d, pin), 0, "%s", ddp_errmsg(e.d));
	add_known_read(&e, 1, want);
	send_all(&e);
	for (i = 0; i < BUF_LEN; i++)
		cr_assert_eq(b[i], ENG_FILL, "byte %zu written after unpin", i);
	st = eng_stats(&e);
	cr_assert_eq(st.offload_bytes, 0);
	/* the kfunc was called, and refused */
	cr_assert_gt(st.drop, 0);
	cr_assert_eq(eng_stray_bytes(&e), 0);
	eng_close(&e);
	free(b);
}

/* A file's shared mapping: not pinned (its page cache would be written
 * behind the filesystem). */
Test(pinned, file_mapping_refused)
{
	char path[] = "/tmp/ddp_pinned.XXXXXX";
	struct eng e;
	__u64 pin;
	void *m;
	int fd;

	if (!kmod_loaded())
		cr_skip_test("kmod_glue's module is not loaded");
	/* made after the skip, so a skipped run leaves no file behind */
	fd = mkstemp(path);
	cr_assert(fd >= 0 && !ftruncate(fd, BUF_LEN));
	unlink(path);
	m = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert(m != MAP_FAILED);
	open_flow(&e, DDP_SK_OFFLOAD | DDP_SK_RECORDS);
	cr_assert_eq(ddp_pin_buf(e.d, m, BUF_LEN, &pin), -EINVAL);
	cr_assert(strstr(ddp_errmsg(e.d), "anonymous memory"), "%s",
		  ddp_errmsg(e.d));
	eng_close(&e);
	munmap(m, BUF_LEN);
	close(fd);
}

/* Another process's pin, a pin never made, segments past the pin: each
 * refused, with its reason. */
Test(pinned, only_the_callers_pins)
{
	struct ddp_seg seg = { .addr = 0, .len = 4096 };
	struct ddp_seg past = { .addr = BUF_LEN - 4096, .len = 4097 };
	int up[2], down[2], fd;
	struct ddp_pin_req r;
	__u8 *b = new_buf();
	struct eng e;
	__u64 pin;
	pid_t child;
	char c;

	if (!kmod_loaded())
		cr_skip_test("kmod_glue's module is not loaded");
	open_flow(&e, DDP_SK_OFFLOAD | DDP_SK_RECORDS);
	cr_assert(!pipe(up) && !pipe(down));
	child = fork();
	cr_assert(child >= 0);
	if (!child) {
		/* pins its own copy of b, tells the id, holds it */
		r = (struct ddp_pin_req){ .addr = (uintptr_t)b,
					  .len = BUF_LEN };
		fd = open(DDP_KMOD_DEV, O_RDWR);
		if (fd < 0 || ioctl(fd, DDP_IOC_PIN, &r))
			r.id = 0;
		if (write(up[1], &r.id, sizeof(r.id)) != sizeof(r.id))
			_exit(1);
		if (read(down[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(read(up[0], &pin, sizeof(pin)), sizeof(pin));
	cr_assert_neq(pin, 0, "the child could not pin");
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, pin, &seg, 1, NULL),
		     -EPERM, "another process's pin taken");
	cr_assert(strstr(ddp_errmsg(e.d), "not one this process made"), "%s",
		  ddp_errmsg(e.d));
	cr_assert_eq(write(down[1], "x", 1), 1);
	waitpid(child, NULL, 0);
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, pin ^ 1ull << 40, &seg,
				      1, NULL),
		     -EPERM, "a pin never made taken");
	cr_assert_eq(ddp_pin_buf(e.d, b, BUF_LEN, &pin), 0, "%s",
		     ddp_errmsg(e.d));
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, pin, &past, 1, NULL),
		     -EINVAL, "a segment past the pin taken");
	cr_assert(strstr(ddp_errmsg(e.d), "outside pin"), "%s",
		  ddp_errmsg(e.d));
	cr_assert_eq(ddp_setup_pinned(e.d, e.flow_id, 1, pin, &seg, 1, NULL), 0,
		     "%s", ddp_errmsg(e.d));
	eng_close(&e);
	free(b);
}
