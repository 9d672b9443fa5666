/*
 * The shared-memory protocol of docs/shm-layout.md as a Promela model,
 * checked by Spin over every interleaving of:
 *
 *   Writer   the sidecar's hotswap::Writer (client-sdk/src/writer.cc):
 *            open with recovery, publish, activate, evict, and the
 *            sidecar's re-publish of its last-known-good version when it
 *            restarts (sidecar/src/applier.cc, Applier::start). It may be
 *            SIGKILLed after any step others can see (MAXDEATH times) and
 *            is then restarted.
 *   Reader   one application process (client-sdk/src/client_core.cc): it
 *            attaches to the head, runs NTHREADS threads, and releases what
 *            it holds when they are done.
 *   Thread   a thread reading one key through a Handle<int64_t>
 *            (client-sdk/include/hotswap/handle.hpp) that all threads
 *            share: the Handle's seqlock, the thread's cache entry, the
 *            ClientCore's refresh under its mutex, the snapshot's open,
 *            validation and release.
 *
 * Configurations (tests/model/check_shm_model.sh runs each):
 *   one thread, the writer dying once (MAXDEATH 1, MAXTRANSIENT 1): every
 *     interleaving of each writer step, death and recovery with each step
 *     of a reader's refresh;
 *   the same with the writer dying twice (MAXDEATH 2) over the first two
 *     pushes (NOPS 2): a death during the recovery from a death;
 *   two threads (NTHREADS 2), the writer not dying, each push one step, the
 *     first three pushes: the Handle's seqlock and the references threads
 *     hold. The threads refresh one at a time (ClientCore::mu_), so there
 *     refresh_locked() is one step too; the first configuration checks it
 *     step by step;
 *   liveness (READS_ON_CHANGE): as the first, the thread reading again only
 *     when a version was activated since its Handle's.
 *
 * Each statement is one access the C++ makes to memory another process or
 * thread can see, or one system call; what touches only memory a process
 * keeps to itself is folded into d_step blocks. Spin runs statements one at
 * a time (sequential consistency); the C++ gets that order where it matters
 * from release stores and acquire loads, noted at each step. A mutation
 * (BUG_*, or CXX_* for the C++ before a fix) replaces one such order or
 * step; the script shows the checker failing on each.
 *
 * C++ references are file:line as of the commit that added this model.
 *
 * Abstractions:
 *  - Three slots: with retain 2, free_slot() never hands out more than the
 *    first three of the sixteen.
 *  - A snapshot segment is its nonce (1..NSEG-1, never reused) with a
 *    version, whether its name is linked, whether its bytes are whole, and
 *    how many references the reader process holds to its mapping
 *    (shared_ptr<const MappedSnapshot>). Its one key's value in version v
 *    is v. A reader's private copy of a small segment behaves as a mapping
 *    released right after the read; the model maps.
 *  - A descriptor is two words: the segment's name (version and nonce,
 *    writer.cc:104-105; a reader that copies half of a name opens nothing)
 *    and `sum`, standing for the words after it (size, checksums, time).
 *  - A reader's validation is not modelled as checksums: the assertions
 *    require what the protocol promises without them.
 *  - Not modelled: notify_seq and the futex (wait_for_change), and the
 *    replacement of a head (WriterOptions::replace).
 *
 * Properties (docs/shm-layout.md, "Model-checked"):
 *  safety    assertions: a reader never reads a half-written segment, a
 *            torn descriptor, a version other than the one activated under
 *            the word it confirmed, or a mapping its process released;
 *            never opens a reclaimed segment that the word still names; no
 *            thread sees an older activation after a newer one; every
 *            activation makes a new word; a writer that finishes leaves a
 *            whole active version, at most `retain` resident, nothing
 *            leaked.
 *  liveness  the writer finishes however it dies, and a segment that no
 *            ready slot names, that no live writer is building and that no
 *            reader holds is eventually unlinked and unmapped. No fairness
 *            is needed: with READS_ON_CHANGE no process can spin while
 *            another waits.
 */

#ifndef NTHREADS
#define NTHREADS 1
#endif
#ifndef MAXDEATH
#define MAXDEATH 1 /* writer deaths in a run */
#endif
#ifndef MAXTRANSIENT
#define MAXTRANSIENT 1 /* validations of a whole segment that fail anyway */
#endif

#define NSLOT 3
#define NOSLOT 3 /* layout::kNoSlot */
#define RETAIN 2 /* WriterOptions::retain's default */
#define NSEG 9   /* nonces 1..NSEG-1 */
#define MAXGEN 16

#define FREE 0  /* layout::kSlotFree */
#define READY 1 /* layout::kSlotReady */
#define HALF 1  /* seg_state: created, bytes being written */
#define WHOLE 2 /* seg_state: every byte written */

/* The active word (layout.h:38-52): generation and slot. */
#define WORD(g, s) ((g) * 4 + (s))
#define GEN(w) ((w) / 4)
#define SLOT(w) ((w) % 4)

/* The pushes the sidecar gets: publish 1, publish 2, stage 3, activate 3,
 * publish 4 (which reuses version 1's slot). */
#ifndef NOPS
#define NOPS 5 /* or the first NOPS of them */
#endif
#define OP_VER(o) (o == 4 -> 4 : (o == 3 -> 3 : o + 1))
#define OP_IS_ACTIVATE(o) (o == 3)
#define OP_ACTIVATES(o) (o != 2)

/* ---- the head (layout.h:54-92) ---- */
byte word = WORD(0, NOSLOT); /* HeadLayout::active */
bit head_linked;             /* the head's name exists */
byte tmp_heads;              /* head.tmp+<nonce> names */
byte slot_state[NSLOT];
byte slot_name[NSLOT]; /* version and nonce: the nonce stands for both */
byte slot_sum[NSLOT];

/* ---- snapshot segments ---- */
byte nseg; /* the last nonce handed out */
byte seg_ver[NSEG];
byte seg_state[NSEG];
bit seg_linked[NSEG];
byte seg_refs[NSEG]; /* the reader process's references to its mapping */

/* ---- the reader process: its ClientCore and one Handle ---- */
bit mu;                 /* ClientCore::mu_ */
byte cur;               /* ClientCore::current_ (a nonce, 0: none) */
byte cur_word;          /* ClientCore::current_word_ */
byte tc_seg[NTHREADS];  /* ThreadCacheEntry::snap of each thread */
byte tc_word[NTHREADS]; /* ThreadCacheEntry::expected_word */
bit h_resolved;         /* Handle::word_ points at the head (else kUnresolved) */
byte h_exp;             /* Handle::expected_word_ */
byte h_bits;            /* Handle::bits_ */
/* Handle::seq_ is a 32-bit counter that does not wrap while a thread is
 * between two loads of it, and its readers only compare two loads and test
 * the parity: it is modelled as its parity and, per thread, whether it
 * changed since that thread last loaded it. */
bit h_odd;
bit h_chg[NTHREADS];
byte threads_done;

/* ---- ghosts: what the properties refer to ---- */
byte act_ver[MAXGEN]; /* the version activated under each generation */
byte building;        /* the segment a live writer is creating */
byte transients;
bit wdone;

/* Segment n is named by a ready slot. */
#define NAMED_BY(i, n) (slot_state[i] == READY && slot_name[i] == n)
#define NAMED(n) (NAMED_BY(0, n) || NAMED_BY(1, n) || NAMED_BY(2, n))
/* Nobody needs segment n, yet it is there: no ready slot names it, no live
 * writer is building it, the reader holds no reference to it, but its name
 * is linked. (Unlinked and unreferenced, the kernel frees it.) */
#define GARBAGE(n) (seg_linked[n] && !NAMED(n) && building != n && seg_refs[n] == 0)

/* However often the writer dies it finishes, and from some point on no
 * segment is garbage. A segment no ready slot names is never named again,
 * so this is "every segment that no ready slot names and no reader holds
 * is eventually unlinked and unmapped". */
ltl liveness {
  <> [] (wdone && !GARBAGE(1) && !GARBAGE(2) && !GARBAGE(3) && !GARBAGE(4) &&
         !GARBAGE(5) && !GARBAGE(6) && !GARBAGE(7) && !GARBAGE(8))
}

/* ==================== the writer ==================== */

/* SIGKILL after a step others can see. */
inline may_die() {
  if
  :: deaths < MAXDEATH -> goto died
  :: true
  fi
}

#define IN_ORDER(x) ((norder > 0 && order[0] == x) || (norder > 1 && order[1] == x) || \
                     (norder > 2 && order[2] == x))

/* touch(): writer.cc:276-279, to the front of order_. */
inline touch(x) {
  d_step {
    k = 0;
    i = 0;
    do
    :: i < norder -> if :: order[i] != x -> tmp[k] = order[i]; k++ :: else fi; i++
    :: else -> break
    od;
    order[0] = x;
    i = 0;
    do
    :: i < k -> order[i + 1] = tmp[i]; i++
    :: else -> break
    od;
    norder = k + 1;
    i = 0; k = 0; tmp[0] = 0; tmp[1] = 0; tmp[2] = 0
  }
}

/* find_version(): writer.cc:261-267, skipping a damaged slot. */
inline find_version(vv) {
  d_step {
    s = NOSLOT;
    i = 0;
    do
    :: i < norder && seg_ver[slot_name[order[i]]] == vv && order[i] != damaged -> s = order[i]; break
    :: i < norder && !(seg_ver[slot_name[order[i]]] == vv && order[i] != damaged) -> i++
    :: else -> break
    od;
    i = 0
  }
}

/* free_slot(): writer.cc:269-274, the lowest slot not in order_. */
inline free_slot() {
  d_step {
    s = 0;
    do
    :: s < NSLOT && IN_ORDER(s) -> s++
    :: else -> break
    od
  };
  assert(s < NSLOT);
  assert(s != SLOT(word)) /* never the slot readers are directed to (layout.h:55-57) */
}

/* referenced(): writer.cc:250-258, segment x named by a slot of order_. */
inline referenced(x) {
  d_step {
    found = 0;
    i = 0;
    do
    :: i < norder && slot_name[order[i]] == x -> found = 1; break
    :: i < norder && slot_name[order[i]] != x -> i++
    :: else -> break
    od;
    i = 0
  }
}

/* activate_slot(): writer.cc:281-288. The release store of the word is the
 * publish: a reader whose acquire load sees it sees every store before it
 * (the segment's bytes, the descriptor). */
inline activate_slot(x) {
  gen++;
  assert(gen < MAXGEN);
  d_step {
    assert(gen > GEN(word)); /* every activation a new word */
    word = WORD(gen, x);     /* writer.cc:283 */
    act_ver[gen] = seg_ver[slot_name[x]]
  };
  may_die()
  /* writer.cc:284-286 notify_seq and FUTEX_WAKE: not modelled;
   * writer.cc:287 swap_in_head(): nothing pending after create_head() */
}

/* evict(): writer.cc:292-307. */
inline evict() {
  a = SLOT(word); /* writer.cc:293 (the writer's own store) */
  do
  :: norder > RETAIN ->
     d_step { /* writer.cc:295-300: the least recently used but the active */
       victim = NOSLOT;
       i = norder;
       do
       :: i > 0 && order[i - 1] == a -> i--
       :: i > 0 && order[i - 1] != a -> victim = order[i - 1]; break
       :: i == 0 -> break
       od;
       if
       :: victim != NOSLOT ->
          do
          :: i < norder -> order[i - 1] = order[i]; i++
          :: else -> break
          od;
          norder--;
          order[norder] = 0;
          if :: damaged == victim -> damaged = NOSLOT :: else fi;
          n = slot_name[victim] /* writer.cc:302-303 */
       :: else
       fi;
       i = 0
     };
     if
     :: victim == NOSLOT -> break
     :: else
     fi;
     slot_state[victim] = FREE; /* writer.cc:304 */
     may_die();
     d_step { seg_linked[n] = 0; n = 0; victim = 0 }; /* writer.cc:305 shm::unlink */
     may_die()
  :: else -> break
  od;
  a = 0;
  victim = 0
}

/* publish(): writer.cc:75-118. */
inline publish(vv, act) {
  find_version(vv); /* writer.cc:76 */
  if
  :: s != NOSLOT -> /* resident: writer.cc:83-85, nothing written */
     touch(s);
     if :: act -> activate_slot(s) :: else fi
  :: else ->
     free_slot(); /* writer.cc:89 */
     d_step { /* writer.cc:90-94 Segment::create(v<version>+<nonce>): linked, empty */
       nseg++;
       assert(nseg < NSEG);
       n = nseg;
       seg_ver[n] = vv;
       seg_state[n] = HALF;
       seg_linked[n] = 1;
       building = n
     };
     may_die();
#ifdef BUG_RELEASE_ORDER
     /* Mutation: the writer's stores of the descriptor, the state and the
      * word are relaxed, so the segment's bytes (plain stores through its
      * mapping) may be seen after all of them; here they are. */
     slot_name[s] = n; may_die();
     slot_sum[s] = n; may_die();
     d_step { slot_state[s] = READY; building = 0 }; may_die();
     touch(s);
     if :: act -> activate_slot(s) :: else fi;
     seg_state[n] = WHOLE; may_die();
#else
     seg_state[n] = WHOLE; /* writer.cc:95-96 encode_snapshot */
     may_die();
     slot_name[s] = n;     /* writer.cc:104-105 (release) */
     may_die();
     slot_sum[s] = n;      /* writer.cc:106-111 (release) */
     may_die();
     d_step { slot_state[s] = READY; building = 0 }; /* writer.cc:112 (release) */
     may_die();
     touch(s); /* writer.cc:114 */
     if :: act -> activate_slot(s) :: else fi; /* writer.cc:115 */
#endif
     n = 0;
     evict() /* writer.cc:116 */
  fi;
  s = 0
}

/* activate(): writer.cc:120-131. */
inline activate(vv) {
  find_version(vv);
  if
  :: s == NOSLOT -> skip /* not_resident: the sidecar NACKs */
  :: else -> touch(s); activate_slot(s); evict()
  fi;
  s = 0
}

/* create_head() and swap_in_head() for a namespace without a head:
 * writer.cc:149-176, 182-196. */
inline create_head() {
  tmp_heads++; /* writer.cc:150-153 Segment::create(head.tmp+<nonce>) */
  may_die();
  /* writer.cc:154-169: magic, sizes, active = (0, none), in memory nobody
   * else can open; no head by that name (writer.cc:173-174) */
  norder = 0;
  gen = 0;
  d_step { head_linked = 1; tmp_heads-- }; /* writer.cc:191 shm::rename */
  may_die();
  collect_garbage() /* writer.cc:194 */
}

/* adopt_slots(): writer.cc:203-229. */
inline adopt_slots() {
  d_step { /* writer.cc:204-207 (acquire) */
    gen = GEN(word);
    a = SLOT(word);
    damaged = NOSLOT;
    nc = 0
  };
  i = 0;
  do
  :: i < NSLOT ->
     if
     :: slot_state[i] == READY -> /* writer.cc:211 */
        d_step { /* writer.cc:213-214, 231-237 segment_intact(): open, validate against the slot */
          n = slot_name[i];
          intact = (n > 0 && n < NSEG && seg_linked[n] && seg_state[n] == WHOLE && slot_sum[i] == n);
          n = 0
        };
        if /* opening or mapping a whole segment may fail too (EMFILE, ENOMEM);
            * for another slot than the active one that is the path of a
            * half-written segment, which deaths cover */
        :: intact && i == a && transients < MAXTRANSIENT -> transients++; intact = 0
        :: true
        fi;
        if
        :: intact -> /* writer.cc:223: the active one first, then the newest */
           d_step { cand[nc] = i; ckey[nc] = (i == a -> 255 : slot_name[i]); nc++ }
        :: !intact && i == a -> /* writer.cc:215-217 */
#ifdef CXX_FREE_SLOT
           skip /* before the fix: left out of order_, so free_slot() could hand it out */
#else
           d_step { damaged = i; cand[nc] = i; ckey[nc] = 0; nc++ }
#endif
        :: !intact && i != a ->
           slot_state[i] = FREE; /* writer.cc:219 */
           may_die()
        fi
     :: else
     fi;
     i++
  :: else -> break
  od;
  i = 0;
  d_step { /* writer.cc:225-227 */
    norder = 0;
    do
    :: nc > 0 ->
       k = 0;
       i = 1;
       do
       :: i < nc -> if :: ckey[i] > ckey[k] -> k = i :: else fi; i++
       :: else -> break
       od;
       order[norder] = cand[k];
       norder++;
       nc--;
       cand[k] = cand[nc]; ckey[k] = ckey[nc];
       cand[nc] = 0; ckey[nc] = 0
    :: else -> break
    od;
    i = 0; k = 0; intact = 0
  };
  evict() /* writer.cc:228 */
}

/* collect_garbage(): writer.cc:241-248: every name of the namespace that no
 * slot of order_ references. */
inline collect_garbage() {
  do
  :: tmp_heads > 0 -> tmp_heads--; may_die()
  :: else -> break
  od;
  j = 1;
  do
  :: j < NSEG ->
     if
     :: seg_linked[j] ->
        referenced(j);
        if
        :: !found -> seg_linked[j] = 0; may_die() /* writer.cc:246 */
        :: else
        fi;
        found = 0
     :: else
     fi;
     j++
  :: else -> break
  od;
  j = 0
}

/* With two reader threads each push is one step: the threads see the
 * writer only through refresh_locked() (one step there too) and the word
 * (one store a push). */
#if NTHREADS > 1
#define PUSH_BEGIN atomic {
#define PUSH_END }
#else
#define PUSH_BEGIN
#define PUSH_END
#endif

active proctype Writer() {
  byte order[NSLOT];
  byte norder;
  byte gen;
  byte damaged = NOSLOT;
  byte op;  /* the next push */
  byte lkg; /* the sidecar's last-known-good version (on its disk) */
  byte deaths;
  byte s, a, i, j, k, n, victim, nc;
  byte tmp[NSLOT];
  byte cand[NSLOT];
  byte ckey[NSLOT];
  bit intact, found;

start:
  /* Writer::open (writer.cc:322-335): the lock (a dead writer's flock went
   * with it), then attach() (writer.cc:55-73) */
  if
  :: head_linked ->
#ifdef BUG_EARLY_RECLAIM
     /* Mutation: reclaim one step early, before order_ is rebuilt */
     collect_garbage(); adopt_slots()
#elif defined(BUG_NO_GC)
     /* Mutation: a restart that reclaims nothing */
     adopt_slots()
#else
     adopt_slots(); collect_garbage() /* writer.cc:64-65 */
#endif
  :: else -> create_head() /* writer.cc:72 */
  fi;
  /* Applier::start (applier.cc:38-47): serve the last-known-good version */
  if
  :: lkg != 0 -> publish(lkg, 1)
  :: else
  fi;
  do
  :: op < NOPS && !OP_IS_ACTIVATE(op) ->
     PUSH_BEGIN
     publish(OP_VER(op), OP_ACTIVATES(op)); /* applier.cc:91 */
     d_step { /* ACKed; an activated publish is saved (applier.cc:94-98) */
       if :: OP_ACTIVATES(op) -> lkg = OP_VER(op) :: else fi;
       op++
     }
     PUSH_END
  :: op < NOPS && OP_IS_ACTIVATE(op) ->
     PUSH_BEGIN
     activate(OP_VER(op)); /* applier.cc:106 */
     op++
     PUSH_END
  :: op == NOPS -> break
  od;

  /* A writer that finishes leaves a whole active version, at most `retain`
   * resident and no name that nothing references. */
  a = SLOT(word);
  d_step {
    assert(a != NOSLOT);
    n = slot_name[a];
    assert(slot_state[a] == READY && n > 0 && n < NSEG);
    assert(seg_linked[n] && seg_state[n] == WHOLE && slot_sum[a] == n);
    assert(act_ver[GEN(word)] == seg_ver[n]);
    assert(norder <= RETAIN && tmp_heads == 0);
    i = 0;
    do
    :: i < NSLOT -> assert(slot_state[i] != READY || IN_ORDER(i)); i++
    :: else -> break
    od;
    j = 1;
    do
    :: j < NSEG ->
       found = 0;
       i = 0;
       do
       :: i < norder -> if :: slot_name[order[i]] == j -> found = 1 :: else fi; i++
       :: else -> break
       od;
       assert(!seg_linked[j] || found);
       j++
    :: else -> break
    od;
    wdone = 1
  };
  goto end;

died:
  /* SIGKILL: the process's memory and lock go, shared memory stays; the
   * sidecar is restarted and opens the writer again */
  deaths++;
  d_step {
    building = 0;
    norder = 0; order[0] = 0; order[1] = 0; order[2] = 0;
    gen = 0; damaged = NOSLOT;
    s = 0; a = 0; i = 0; j = 0; k = 0; n = 0; victim = 0; nc = 0;
    tmp[0] = 0; tmp[1] = 0; tmp[2] = 0;
    cand[0] = 0; cand[1] = 0; cand[2] = 0;
    ckey[0] = 0; ckey[1] = 0; ckey[2] = 0;
    intact = 0; found = 0
  };
  goto start;
end:
  skip
}

/* ==================== the reader ==================== */

/* The reader's steps each read one word another process writes (the
 * active word, a descriptor word, a segment's name) together with the work
 * on its own process's memory around that read. The inlines below without
 * d_step are such work, done inside a step. */

/* What get() returns: the value of the version activated under the word it
 * was resolved under, never an older activation than one this thread saw. */
inline returned(exp, bits) {
  assert(bits == act_ver[GEN(exp)]);
  assert(GEN(exp) >= last_gen);
  last_gen = GEN(exp)
}

/* Reading the record: client.cc:93-101 (snap->find(key), the value). */
inline read_record(x) {
  assert(seg_refs[x] > 0);       /* still mapped in this process */
  assert(seg_state[x] == WHOLE); /* never half-written */
  rbits = seg_ver[x]
}

/* client_core.cc:158: the thread's cache entry takes the reference
 * refresh_locked() handed out; its old one goes. */
inline take_entry() {
#ifdef BUG_EARLY_RELEASE
  /* Mutation: the entry keeps a plain pointer, so a version's mapping goes
   * when the ClientCore moves on, one step before this thread stops
   * reading it */
  seg_refs[rseg]--;
#else
  if :: tc_seg[t] != 0 -> seg_refs[tc_seg[t]]-- :: else fi;
#endif
  tc_seg[t] = rseg;
  tc_word[t] = rexp
}

/* The rest of a get() once resolved, with one thread: the entry, the
 * record, Handle::store() (nobody else reads or writes the Handle) and the
 * value returned (handle.hpp:111-112). With two threads these are steps of
 * their own after the ClientCore's mutex (handle_refresh). */
inline resolved() {
#if NTHREADS == 1
  if
  :: rseg != 0 ->
     take_entry();
     read_record(rseg);
     h_resolved = 1; h_exp = rexp; h_bits = rbits;
     returned(rexp, rbits)
  :: else
  fi
#else
  skip
#endif
}

/* ClientCore::refresh_locked(): client_core.cc:89-145, under mu_. Leaves
 * the resolved segment in rseg (0: no active version yet) with a reference
 * for the caller, and its word in rexp. */
inline refresh_locked() {
  rseg = 0;
rl_top:
  ok = 0;
  d_step {
    /* client_core.cc:93 and layout.cc:131: two acquire loads of the word
     * with nothing between them that others see, one load */
    before = word;
    if
    :: cur != 0 && before == cur_word -> /* client_core.cc:94-95 */
       rseg = cur; rexp = before; seg_refs[cur]++; ok = 1
    :: SLOT(before) == NOSLOT -> /* layout.cc:133, client_core.cc:110-113 */
       if :: cur != 0 -> rseg = cur; rexp = cur_word; seg_refs[cur]++ :: else -> rseg = 0 fi;
       ok = 1
    :: else -> ok = 0
    fi;
    if :: ok -> resolved() :: else fi
  };
  if
  :: ok -> goto rl_done
  :: else
  fi;
  /* read_active_slot(), layout.cc:125-142: copy the descriptor */
  dname = slot_name[SLOT(before)]; /* layout.cc:117-118 (acquire) */
  dsum = slot_sum[SLOT(before)];   /* layout.cc:119-122 (acquire) */
#if defined(CXX_RELAXED_SLOT_STORES)
  /* Before the fix the descriptor was stored relaxed, so the reader's
   * acquire loads of it synchronized with nothing: the re-check could
   * still return the word read first, whatever the copy saw. */
  if
  :: stale = 0
  :: stale = 1
  fi;
#endif
  d_step {
#if defined(CXX_RELAXED_SLOT_STORES)
    after = (stale -> before : word);
    stale = 0;
#else
    after = word; /* layout.cc:136 */
#endif
    if
    :: after != before -> ok = 2 /* an activation raced the copy: layout.cc:136-139 */
    :: after == before && cur != 0 && cur == dname -> /* client_core.cc:124-128 */
       cur_word = before; rseg = cur; rexp = before; seg_refs[cur]++; ok = 1;
       resolved()
    :: else -> ok = 0
    fi
  };
  if
  :: ok == 2 -> goto rl_top
  :: ok == 1 -> goto rl_done
  :: else
  fi;
  d_step {
    /* MappedSnapshot::open (mapped_snapshot.cc:7-42): the name the copy
     * gives; then validate_snapshot() against the slot
     * (mapped_snapshot.cc:33-40), here what the protocol promises without
     * checksums */
    if
    :: dname > 0 && dname < NSEG && seg_linked[dname] ->
       assert(seg_state[dname] == WHOLE);              /* not half-written */
       assert(dsum == dname);                          /* one whole descriptor */
       assert(act_ver[GEN(before)] == seg_ver[dname]); /* the version activated under the word */
       /* client_core.cc:139-142: current_ = snap, the old one released */
       if :: cur != 0 -> seg_refs[cur]-- :: else fi;
       cur = dname;
       cur_word = before;
       rseg = cur;
       rexp = before;
       seg_refs[cur] = seg_refs[cur] + 2; /* current_ and the caller's copy */
       ok = 1;
       resolved()
    :: else -> /* no_segment (client_core.cc:131-136): evicted since, */
       assert(word != before);             /* so the word has moved on */
       ok = 0
    fi
  };
  if
  :: !ok -> goto rl_top
  :: else
  fi;
rl_done:
  before = 0;
  d_step { after = 0; dname = 0; dsum = 0; ok = 0 }
}

#if NTHREADS > 1
#define SEQ_CHANGED h_chg[0] = 1; h_chg[1] = 1
#endif

/* Handle::store(), handle.hpp:89-103, with two threads. */
inline handle_store() {
  d_step { seq = h_odd; h_chg[t] = 0 }; /* handle.hpp:91 */
  if
  :: seq == 1 -> skip /* another thread is caching */
  :: else ->
     d_step { /* handle.hpp:92 compare_exchange_strong (acquire): unchanged since */
       if
       :: !h_chg[t] -> h_odd = 1; SEQ_CHANGED; ok = 1
       :: else -> ok = 0
       fi
     };
     if
     :: ok ->
#ifdef BUG_SEQLOCK_ORDER
        /* Mutation: the closing store of seq_ is not ordered after the data */
        d_step { h_resolved = 1; h_exp = rexp };
        d_step { h_odd = 0; SEQ_CHANGED };
        h_bits = rbits
#else
        d_step { h_resolved = 1; h_exp = rexp }; /* handle.hpp:99-100 (release) */
        h_bits = rbits;                          /* handle.hpp:101 (release) */
        d_step { h_odd = 0; SEQ_CHANGED }        /* handle.hpp:102 (release) */
#endif
     :: else
     fi
  fi
}

/* Handle::get(): handle.hpp:43-59, a seqlock read; its slow path
 * Handle::refresh() (handle.hpp:106-113) through resolve_scalar()
 * (client.cc:84-103) and ClientCore::current_for_thread()
 * (client_core.cc:162-170). */
inline handle_get() {
#if NTHREADS > 1
  d_step { seq = h_odd; h_chg[t] = 0 };       /* handle.hpp:46 (acquire) */
  d_step { hres = h_resolved; hexp = h_exp }; /* handle.hpp:47-48 (acquire) */
  hbits = h_bits;                             /* handle.hpp:49 (acquire) */
  seq2 = h_chg[t];                            /* handle.hpp:50: 1 if seq_ changed */
  d_step { /* handle.hpp:54-57: three tests, one of them the word (acquire) */
    ok = (seq2 == 0 && seq == 0 && hres && word == hexp);
    if :: ok -> returned(hexp, hbits) :: else fi;
    seq = 0; seq2 = 0; hres = 0; hexp = 0; hbits = 0
  };
  if
  :: ok -> ok = 0
  :: else ->
     d_step { /* client_core.h:72-79 cached_for_thread(): the word (acquire) */
       if
       :: tc_seg[t] != 0 && tc_word[t] == word -> rseg = tc_seg[t]; rexp = tc_word[t]; ok = 1
       :: else -> ok = 0
       fi
     };
     if
     :: ok -> ok = 0
     :: else -> /* client_core.cc:147-160 refresh_thread_entry(): the threads take
                 * turns under mu_, so this is one step */
        atomic {
          mu == 0 -> mu = 1; /* client_core.cc:148 */
          refresh_locked();
          mu = 0             /* client_core.cc:150 */
        };
        if :: rseg != 0 -> d_step { take_entry() } :: else fi
     fi;
     if
     :: rseg == 0 -> skip /* no active version yet: get() returns the error */
     :: else ->
        d_step { read_record(rseg) };
        handle_store();                    /* handle.hpp:111 */
        d_step { returned(rexp, rbits) }   /* handle.hpp:112 */
     fi
  fi;
#else
  /* handle.hpp:46-57 and client_core.h:72-79: nobody else writes the
   * Handle or the thread's entry, so the seqlock and the entry always agree;
   * one step with the one load of the word */
  d_step {
    ok = (h_resolved && word == h_exp);
    if
    :: ok -> returned(h_exp, h_bits)
    :: !ok && tc_seg[t] != 0 && tc_word[t] == word -> rseg = tc_seg[t]; rexp = tc_word[t];
       read_record(rseg); h_exp = rexp; h_bits = rbits; returned(rexp, rbits); ok = 1
    :: else
    fi
  };
  if
  :: ok -> ok = 0
  :: else -> refresh_locked() /* client_core.cc:149; uncontended mu_ */
  fi;
#endif
  d_step { rseg = 0; rexp = 0; rbits = 0; ok = 0 }
}

proctype Thread(byte t) {
  byte seq, seq2, hexp, hbits, before, after, dname, dsum;
  byte rseg, rexp, rbits, last_gen;
  byte ok;
  bit hres, stale;
#ifdef READS_ON_CHANGE
  /* An application that reads again when a version was activated since its
   * Handle's (as on_change would tell it) and runs on: the check of
   * liveness, which then needs no fairness, as no process can spin while
   * another waits. */
end_wait:
  do
  :: SLOT(word) != NOSLOT && word != h_exp -> handle_get()
  od;
#else
  do
  :: handle_get()
  :: break
  od;
#endif
  /* the thread exits: its thread_local cache entry goes */
  tc_word[t] = 0;
  d_step {
#ifndef BUG_EARLY_RELEASE
    if :: tc_seg[t] != 0 -> seg_refs[tc_seg[t]]-- :: else fi;
#endif
    tc_seg[t] = 0;
    threads_done++
  }
}

active proctype Reader() {
  byte i;
  /* ClientCore::open (client_core.cc:27-50): the head must exist (an
   * application retries Client::open until a sidecar made it) */
  head_linked;
  run Thread(0);
#if NTHREADS > 1
  run Thread(1);
#endif
end_running:
  threads_done == NTHREADS;
  /* the Client and its Handle go, current_ (client_core.h:125) with them */
  d_step {
    if :: cur != 0 -> seg_refs[cur]-- :: else fi;
    cur = 0;
    cur_word = 0;
    /* and the process holds no mapping any more */
    i = 1;
    do
    :: i < NSEG -> assert(seg_refs[i] == 0); i++
    :: else -> break
    od;
    i = 0
  }
}
