/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fault_env.h - the fault programs (utcp_fault.bpf.c) set up on a veth in
 * the calling thread's network namespace: for the utcp tests and for the
 * fault_inject tool of the end-to-end tests.
 */
#ifndef FAULT_ENV_H
#define FAULT_ENV_H

#include <stddef.h>
#include <linux/types.h>
#include "utcp_fault.h"

struct bpf_object;

struct fault_env {
	struct bpf_object *obj;
	int cfg_fd, st_fd;
};

/* Loads OBJ_PATH and attaches its programs: egress and ingress of HOME,
 * and a detour veth pair NEAR/FAR made here, NEAR shaped by tbf at
 * RATE_MBIT (the delay a reordered frame waits). Single segments leave
 * HOME from now on (no GSO trains past the hook). Every rate starts at 0.
 * 0, or -1 with the reason in ERR. */
int fault_env_open(struct fault_env *fe, const char *obj_path, const char *home,
		   const char *near, const char *far, unsigned int rate_mbit,
		   char *err, size_t len);
/* The rates and port of CFG; the devices stay those of open */
int fault_env_set(struct fault_env *fe, const struct fault_cfg *cfg);
int fault_env_stats(struct fault_env *fe, struct fault_stats *st);
/* The object only: the tc filters go with the devices */
void fault_env_close(struct fault_env *fe);

#endif /* FAULT_ENV_H */
