// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats.c - the engine's counters, summed over CPUs, by name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libddp_priv.h"

static const char *const ddp_stat_names[] = {
#define DDP_STAT_NAME(name) #name,
	DDP_STATS(DDP_STAT_NAME)
#undef DDP_STAT_NAME
};

const char *ddp_stat_name(unsigned int i)
{
	return i < DDP_STATS_NR ? ddp_stat_names[i] : NULL;
}

int ddp_stats_read(struct ddp_dev *d, struct ddp_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct ddp_stats *per;
	__u32 zero = 0;
	size_t i;

	if (ncpu < 0)
		return ddp_err(d, ncpu, "number of CPUs unknown");
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return ddp_err(d, -ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(d->map_fd[M_ddp_stats], &zero, per)) {
		free(per);
		return ddp_err(d, -errno, "read of ddp_stats: %s",
			       strerror(errno));
	}
	memset(sum, 0, sizeof(*sum));
	for (c = 0; c < ncpu; c++)
		for (i = 0; i < DDP_STATS_NR; i++)
			((__u64 *)sum)[i] += ((__u64 *)&per[c])[i];
	free(per);
	return 0;
}
