/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef DDP_DEV_H
#define DDP_DEV_H

int ddp_dev_register(void);
void ddp_dev_unregister(void);

#endif
