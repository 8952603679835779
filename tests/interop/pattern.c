// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pattern.c - writes or checks the interop target's namespace contents
 * (pattern.h).
 *
 *   pattern SIZE FILE            FILE = the first SIZE bytes of the device
 *   pattern -c OFFSET FILE       FILE holds the device's bytes from OFFSET
 *
 * SIZE and OFFSET take a K, M or G suffix (powers of 1024). "-" is stdout
 * or stdin. Exit codes: 0 done (or all bytes right), 1 failed (or a wrong
 * byte, named on stderr), 2 bad command line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pattern.h"

#define CHUNK (1 << 20)

static uint8_t buf[CHUNK];

static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int write_pattern(uint64_t size, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	uint64_t off;
	size_t n;

	if (!f) {
		fprintf(stderr, "pattern: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (off = 0; off < size; off += n) {
		n = size - off < CHUNK ? size - off : CHUNK;
		ddp_pattern_fill(buf, off, n);
		if (fwrite(buf, 1, n, f) != n)
			break;
	}
	if (off < size || fflush(f) || (f != stdout && fclose(f))) {
		fprintf(stderr, "pattern: writing %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int check_pattern(uint64_t start, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint64_t off = start;
	int64_t bad;
	size_t n;

	if (!f) {
		fprintf(stderr, "pattern: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = fread(buf, 1, CHUNK, f)) > 0) {
		bad = ddp_pattern_check(buf, off, n);
		if (bad >= 0) {
			fprintf(stderr,
				"pattern: %s: device offset %" PRId64
				" (file offset %" PRIu64
				") holds 0x%02x, expected 0x%02x\n",
				path, bad, (uint64_t)bad - start,
				buf[bad - off], ddp_pattern_byte(bad));
			return 1;
		}
		off += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "pattern: reading %s failed\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t v;

	if (argc == 3 && !parse_size(argv[1], &v))
		return write_pattern(v, argv[2]);
	if (argc == 4 && !strcmp(argv[1], "-c") && !parse_size(argv[2], &v))
		return check_pattern(v, argv[3]);
	fprintf(stderr, "usage: pattern SIZE FILE\n"
			"       pattern -c OFFSET FILE\n");
	return 2;
}
