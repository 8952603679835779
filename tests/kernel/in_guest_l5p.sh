# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Sourced by in_guest_kmod.sh where the engine is attached with the module
# loaded: kmod_glue's API for in-kernel L5Ps (tcp_ddp.h), through its test
# L5P, ddp_l5p_test.ko, reading over a kernel TCP socket from the target
# on the machine's side ($TARGET; on $LOSSY_PORT, 1% of its segments to
# this guest dropped). Every read is checked against the target's pattern
# in the module; what it did is in its result parameter. Uses
# in_guest.sh's ok, bad and counter.

taddr=${TARGET%:*}
tport=${TARGET#*:}

# field NAME of the L5P's result, $R
field() {
	echo "$R" | sed -n "s/.* $1=\([0-9-]*\).*/\1/p"
}

# l5p ARGS...: the test L5P at insmod with ARGS, its result in $R, gone
l5p() {
	if ! insmod kmod/ddp_l5p_test.ko addr=$taddr nqn=$NQN "$@" 2>/tmp/l5p.log; then
		R="insmod: $(cat /tmp/l5p.log) $(dmesg | grep ddp_l5p_test | tail -3)"
		return 1
	fi
	R=$(cat /sys/module/ddp_l5p_test/parameters/result)
	rmmod ddp_l5p_test
}

# every byte read checked and right, placed or copied; at least $1% placed
l5p_read_ok() {
	case "$R" in done* | stopped*) ;; *) return 1 ;; esac
	[ "$2" = software ] || [ "$(field offloaded)" = 1 ] || return 1
	[ "$(field bad)" = 0 ] && [ "$(field reads)" -gt 0 ] &&
		[ $(($(field placed) + $(field copied))) = "$(field bytes)" ] &&
		[ $(($(field placed) * 100)) -ge $(($(field bytes) * $1)) ]
}

l5p_placed() {
	echo "$(field reads) reads of 32K-1M, $(field placed) of $(field bytes) bytes placed ($(($(field placed) * 100 / $(field bytes)))%), $(field copied) copied, all verified, $(field resyncs) resyncs answered ($(field confirmed) confirmed)"
}

# the counters that must move together, now
balance() {
	echo "$(counter queue_init) $(counter queue_teardown) $(counter ddp_setup) $(counter ddp_teardown) $(counter sk_add_fail) $(counter ddp_setup_fail)"
}

# nothing of the L5P's left: no flow, no tag, as many tags torn down as
# set up and flows deleted as added since $1 (balance); $2: refusals too
engine_clean() {
	set -- $1 $(balance) "$2"
	[ "$(./ddpctl flows eth0 --json)" = "[]" ] &&
		[ "$(./ddpctl tags eth0 --json)" = "[]" ] &&
		[ $(($8 - $7)) = $(($2 - $1)) ] && [ $((${10} - $9)) = $(($4 - $3)) ] &&
		{ [ "${13}" != strict ] || { [ "${11}" = "$5" ] && [ "${12}" = "$6" ]; }; }
}

# l1. reads, each into kernel pages registered with tcp_ddp_setup
before=$(balance)
if l5p port=$tport seconds=$READ_SECONDS && l5p_read_ok 90 && engine_clean "$before"; then
	ok "in-kernel L5P over a kernel socket: $(l5p_placed); as many tags torn down as set up, its flow gone"
else
	bad "in-kernel L5P: $R; engine: $(balance) after $before, flows $(./ddpctl flows eth0 --json)"
fi

# l2. the same with 1% of the target's segments lost: resyncs confirmed
# through resync_request and tcp_ddp_resync (twice as long: each lost
# header costs a share of a short run)
# The losses seen: the engine counted retransmitted segments and took
# resync confirmations, the L5P confirmed resyncs.
before=$(balance)
rt0=$(counter retrans)
rc0=$(counter resync_confirm)
if l5p port=$LOSSY_PORT seconds=$((READ_SECONDS * 2)) && l5p_read_ok 90 && engine_clean "$before"; then
	rt=$(($(counter retrans) - rt0))
	rc=$(($(counter resync_confirm) - rc0))
	if [ "$rt" -gt 0 ] && [ "$rc" -gt 0 ] && [ "$(field confirmed)" -gt 0 ]; then
		ok "in-kernel L5P at 1% loss: $(l5p_placed); the engine saw $rt retransmitted segments, took $rc resync confirmations"
	else
		bad "in-kernel L5P at 1% loss, the losses not seen: $rt retransmitted segments, $rc resync confirmations by the engine, $(field confirmed) by the L5P: $R"
	fi
else
	bad "in-kernel L5P at 1% loss: $R; engine: $(balance) after $before"
fi

# l3. bad input through the API: each call refused with its error (the
# L5P checks), nothing counted as set up or refused by the engine, a good
# read after them
before=$(balance)
if l5p port=$tport mode=bad && l5p_read_ok 0 && engine_clean "$before" strict; then
	ok "bad input through the API refused, nothing changed: an unknown socket, sk_add twice or unconnected or with a bad config, a CID in use, $((256 + 1)) segments, teardown of an unknown CID; then $(field reads) good read"
else
	bad "bad input through the API: $R $(dmesg | grep ddp_l5p_test | tail -5); engine: $(balance) after $before"
fi

# l4. the L5P unloaded in the middle of a read, a buffer registered: its
# flow (the kernel's, which ddpctl reap leaves alone) deleted, the tag
# torn down, nothing left
before=$(balance)
if insmod kmod/ddp_l5p_test.ko addr=$taddr nqn=$NQN port=$tport mode=background 2>/tmp/l5p.log; then
	sleep 2
	# the kernel's flow is no dead process's: reap leaves it
	./ddpctl reap eth0 >/tmp/reap.log 2>&1
	flows=$(./ddpctl flows eth0 --json)
	rmmod ddp_l5p_test
	R=$(dmesg | grep 'ddp_l5p_test: stopped' | tail -1)
	R=${R#*ddp_l5p_test: }
	case "$flows" in
	*'"owner":"kernel"'*) ;;
	*) R="no flow of the kernel's while it read, after ddpctl reap ($(cat /tmp/reap.log)): $flows; $R" ;;
	esac
	if l5p_read_ok 0 && engine_clean "$before"; then
		ok "rmmod of the in-kernel L5P mid-read: $(field reads) reads verified, its flow (owner kernel, kept by ddpctl reap) and registered tag gone"
	else
		bad "rmmod of the in-kernel L5P mid-read: $R; engine: $(balance) after $before, flows $(./ddpctl flows eth0 --json), tags $(./ddpctl tags eth0 --json); $(dmesg | grep ddp_l5p_test | tail -4)"
	fi
else
	bad "insmod ddp_l5p_test mode=background: $(cat /tmp/l5p.log)"
fi

# l5. the engine detached under a reading L5P: the module deletes its flow
# first; the L5P reads on in software, every byte right
if insmod kmod/ddp_l5p_test.ko addr=$taddr nqn=$NQN port=$tport mode=background 2>/tmp/l5p.log; then
	sleep 2
	./ddpctl detach eth0 >/tmp/detach.log 2>&1
	d=$?
	sleep 2
	rmmod ddp_l5p_test
	R=$(dmesg | grep 'ddp_l5p_test: stopped' | tail -1)
	R=${R#*ddp_l5p_test: }
	if [ $d = 0 ] && l5p_read_ok 0 software && [ "$(field setup_fail)" -gt 0 ]; then
		ok "ddpctl detach under the in-kernel L5P: it read on in software, $(field reads) reads verified, $(field setup_fail) refused setups"
	else
		bad "ddpctl detach under the in-kernel L5P: $(cat /tmp/detach.log) $R"
	fi
	./ddpctl attach eth0 --mode native --buffers 128M >/tmp/attach.log 2>&1 ||
		bad "ddpctl attach again: $(cat /tmp/attach.log)"
else
	bad "insmod ddp_l5p_test mode=background: $(cat /tmp/l5p.log)"
fi

# and nothing the kernel complained about
if dmesg | grep -E 'BUG|WARNING|Oops|general protection' >/tmp/dmesg.log; then
	bad "the kernel's log: $(head -20 /tmp/dmesg.log)"
else
	ok "no kernel warning with kmod_glue's API"
fi
