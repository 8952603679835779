// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * names.c - the engine's maps and programs by the names they are pinned
 * under, for every part of the library.
 */
#include "libddp_priv.h"

#define DDP_NAME(name) #name,
const char *const ddp_map_names[DDP_MAP_NR] = { DDP_MAPS(DDP_NAME) };
const char *const ddp_prog_names[DDP_PROG_NR] = { DDP_PROGS(DDP_NAME) };
#undef DDP_NAME
