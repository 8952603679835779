/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef DDP_KFUNCS_H
#define DDP_KFUNCS_H

int ddp_kfuncs_register(void);

#endif
