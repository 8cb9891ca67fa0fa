/*
 * router.c - the router: an index over every trigger of a registry, and
 * route(), which turns an utterance into a plan (SPEC §4).
 *
 * Building parses every trigger (cheap: phrases are turned into patterns
 * by hand) and compiles only the few "re:" patterns (they must be checked
 * anyway). Phrases compile on first use. The index maps each phrase to
 * its rarest required word and each pattern to the rarest trigram of its
 * required literals; a route folds the utterance into words once, looks
 * its words (and their trigrams) up, keeps the triggers whose other
 * required words and literals are present too, and only then runs PCRE2.
 *
 * Concurrency: after aims_router_new the router is read-only except for
 * each trigger's compiled code, which is published with a compare-and-swap
 * (two threads may compile the same trigger; one copy wins, the other is
 * freed). Match data is per call; the match context is shared read-only.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aims/router.h"
#include "core/arena.h"
#include "core/array.h"
#include "router/router_int.h"

typedef struct rdef {
	const aims_manifest *m;
	bool routable;
	int bonus_tenths; /* priority bonus in tenths of a point */
	int hook_rank;	  /* priority order for hooks */
} rdef;

typedef struct rtrigger {
	uint32_t def;
	uint32_t index; /* in the manifest's triggers */
	bool regex;
	uint32_t token_off, token_count;     /* phrases: required words */
	uint32_t literal_off, literal_count; /* patterns: required literals */
	uint32_t captures;
	unsigned specificity, literal_chars, literal_words, slot_terms;
	bool leads;	  /* a phrase whose first literal starts it (no slot before) */
	bool routable;	  /* copied from its definition: the index checks it for
			  * every posting, without a trip to the manifest */
	const char *text; /* the trigger (borrowed from the manifest) */
	_Atomic(pcre2_code *) code;
} rtrigger;

/* An open-addressing map from a key (word hash or trigram) to a range of
 * trigger ids. */
typedef struct bucket {
	uint64_t key; /* 0: empty */
	uint32_t start, count;
} bucket;

typedef struct index_table {
	bucket *slots;
	size_t mask;
	uint32_t *postings;
	/* One bit per key hash, 16 bits per key: most keys an utterance asks
	 * about are absent, and this small array answers that without a
	 * cache miss in the large table. */
	uint64_t *filter;
	size_t filter_bits_mask;
} index_table;

/*
 * PCRE2 match data, kept between routes. Its first interpreted match
 * allocates PCRE2's backtracking frames (20 KiB), which costs more than
 * the match itself; a small pool keeps a few ready. Each one allocates
 * through its own general context, which counts its bytes, so one that
 * grew large on a hard pattern is freed instead of kept.
 */
#define MATCH_POOL_MAX	 16	      /* match data kept */
#define MATCH_KEEP_BYTES (256u << 10) /* ... when they hold at most this */

typedef struct match_slot {
	pcre2_match_data *md;
	pcre2_general_context *gc;
	size_t bytes; /* allocated through gc, live */
	struct match_slot *next;
} match_slot;

struct aims_router {
	const aims_registry *reg;
	aims_router_options opts;
	rdef *defs;
	size_t def_count;
	rtrigger *triggers;
	size_t trigger_count;
	uint64_t *tokens; /* required words of every phrase */
	size_t token_count;
	char *literals; /* required literals of every pattern, NUL-separated */
	size_t literal_bytes;
	index_table words;	 /* phrases with one required word: by that word */
	index_table words_multi; /* phrases with more: by their rarest word */
	index_table pairs;	 /* ... and by their two rarest words */
	index_table trigrams;	 /* patterns: by their rarest literal trigram */
	uint32_t *always;	 /* triggers tried on every route */
	size_t always_count;
	aims_router_problem *problems;
	size_t problem_count, problem_cap;
	pcre2_compile_context *ccontext;
	pcre2_match_context *mcontext;
	bool jit;
	uint32_t max_captures;
	_Atomic size_t compiled;
	pthread_mutex_t pool_lock;
	match_slot *pool; /* free match data, at most MATCH_POOL_MAX */
	size_t pool_count;
};

typedef struct plan_impl {
	aims_plan pub; /* first: a plan_impl * is an aims_plan * */
	aims_arena arena;
} plan_impl;

/* ---- Small helpers ------------------------------------------------------ */

static int bonus_tenths(aims_priority priority)
{
	switch (priority) {
	case AIMS_PRIORITY_CRITICAL: return 3;
	case AIMS_PRIORITY_HIGH: return 2;
	case AIMS_PRIORITY_LOW: return 0;
	default: return 1; /* medium, unset, unknown values */
	}
}

static uint64_t trigram_key(const char *s)
{
	/* tagged so a trigram can never be 0 */
	return (1ull << 32) | ((uint64_t)(unsigned char)s[0] << 16) |
	       ((uint64_t)(unsigned char)s[1] << 8) | (unsigned char)s[2];
}

/* The key of an unordered pair of word hashes. */
static uint64_t pair_key(uint64_t a, uint64_t b)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	uint64_t h = (lo * 0xC2B2AE3D27D4EB4Full) ^ (hi + 0x165667B19E3779F9ull + (lo << 6));

	h ^= h >> 29;
	return h ? h : 1;
}

static size_t slot_for(size_t mask, uint64_t key)
{
	uint64_t h = key * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 17) & mask;
}

static size_t filter_bit(const index_table *t, uint64_t key)
{
	return (size_t)((key * 0xD6E8FEB86659FD93ull) >> 40) & t->filter_bits_mask;
}

static const bucket *table_find(const index_table *t, uint64_t key)
{
	size_t i, bit;

	if (!t->slots)
		return NULL;
	bit = filter_bit(t, key);
	if (!(t->filter[bit / 64] & (1ull << (bit % 64))))
		return NULL;
	for (i = slot_for(t->mask, key);; i = (i + 1) & t->mask) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		if (t->slots[i].key == 0)
			return NULL;
	}
}

/* A counting map used while building (document frequency of keys). */
typedef struct count_map {
	uint64_t *keys;
	uint32_t *counts;
	size_t mask, used;
} count_map;

static int count_map_init(count_map *cm, size_t expected)
{
	size_t cap = 64;

	while (cap < expected * 2)
		cap *= 2;
	cm->keys = calloc(cap, sizeof(*cm->keys));
	cm->counts = calloc(cap, sizeof(*cm->counts));
	cm->mask = cap - 1;
	cm->used = 0;
	return cm->keys && cm->counts ? 0 : AIMS_ENOMEM;
}

static uint32_t *count_map_at(count_map *cm, uint64_t key)
{
	size_t i;

	for (i = slot_for(cm->mask, key);; i = (i + 1) & cm->mask) {
		if (cm->keys[i] == key)
			return &cm->counts[i];
		if (cm->keys[i] == 0) {
			cm->keys[i] = key;
			cm->used++;
			return &cm->counts[i];
		}
	}
}

static void count_map_free(count_map *cm)
{
	free(cm->keys);
	free(cm->counts);
}

typedef struct key_pair {
	uint64_t key;
	uint32_t trigger;
} key_pair;

static int cmp_pairs(const void *a, const void *b)
{
	const key_pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->trigger < y->trigger ? -1 : x->trigger > y->trigger;
}

static int table_build(index_table *t, key_pair *pairs, size_t count)
{
	size_t distinct = 0, cap = 16;

	if (!count)
		return 0;
	qsort(pairs, count, sizeof(*pairs), cmp_pairs);
	for (size_t i = 0; i < count; i++)
		distinct += i == 0 || pairs[i].key != pairs[i - 1].key;
	while (cap < distinct * 2)
		cap *= 2;
	t->slots = calloc(cap, sizeof(*t->slots));
	t->postings = malloc(count * sizeof(*t->postings));
	/* 8 bits per table slot, so 16 or more per key */
	t->filter = calloc(cap / 8 < 1 ? 1 : cap / 8, sizeof(*t->filter));
	if (!t->slots || !t->postings || !t->filter)
		return AIMS_ENOMEM;
	t->mask = cap - 1;
	t->filter_bits_mask = cap * 8 - 1;
	for (size_t i = 0; i < count; i++) {
		t->postings[i] = pairs[i].trigger;
		if (i == 0 || pairs[i].key != pairs[i - 1].key) {
			size_t s = slot_for(t->mask, pairs[i].key);
			size_t bit = filter_bit(t, pairs[i].key);

			while (t->slots[s].key)
				s = (s + 1) & t->mask;
			t->slots[s].key = pairs[i].key;
			t->slots[s].start = (uint32_t)i;
			t->filter[bit / 64] |= 1ull << (bit % 64);
		}
		((bucket *)table_find(t, pairs[i].key))->count++;
	}
	return 0;
}

static void table_free(index_table *t)
{
	free(t->slots);
	free(t->postings);
	free(t->filter);
}

/* ---- The match data pool ------------------------------------------------- */

/* The allocator of one match slot: a size header before each block. */
static void *slot_malloc(size_t size, void *data)
{
	match_slot *slot = data;
	max_align_t *block = malloc(sizeof(max_align_t) + size);

	if (!block)
		return NULL;
	*(size_t *)block = size;
	slot->bytes += size;
	return block + 1;
}

static void slot_free(void *ptr, void *data)
{
	match_slot *slot = data;
	max_align_t *block = ptr;

	if (!ptr)
		return;
	block--;
	slot->bytes -= *(size_t *)block;
	free(block);
}

static void slot_destroy(match_slot *slot)
{
	if (!slot)
		return;
	pcre2_match_data_free(slot->md);
	pcre2_general_context_free(slot->gc);
	free(slot);
}

/* A match slot from the pool, or a new one; NULL when out of memory. */
static match_slot *slot_get(const aims_router *cr)
{
	aims_router *r = (aims_router *)cr; /* only the pool changes */
	match_slot *slot;

	pthread_mutex_lock(&r->pool_lock);
	if ((slot = r->pool)) {
		r->pool = slot->next;
		r->pool_count--;
	}
	pthread_mutex_unlock(&r->pool_lock);
	if (slot)
		return slot;
	if (!(slot = calloc(1, sizeof(*slot))))
		return NULL;
	slot->gc = pcre2_general_context_create(slot_malloc, slot_free, slot);
	slot->md = slot->gc ? pcre2_match_data_create(cr->max_captures + 1, slot->gc) : NULL;
	if (!slot->md) {
		slot_destroy(slot);
		return NULL;
	}
	return slot;
}

static void slot_put(const aims_router *cr, match_slot *slot)
{
	aims_router *r = (aims_router *)cr;

	if (slot->bytes > MATCH_KEEP_BYTES) {
		slot_destroy(slot);
		return;
	}
	pthread_mutex_lock(&r->pool_lock);
	if (r->pool_count < MATCH_POOL_MAX) {
		slot->next = r->pool;
		r->pool = slot;
		r->pool_count++;
		slot = NULL;
	}
	pthread_mutex_unlock(&r->pool_lock);
	slot_destroy(slot);
}

/* ---- Building ------------------------------------------------------------ */

static int add_problem(aims_router *r, const aims_manifest *m, size_t index, size_t offset,
		       const char *message)
{
	aims_router_problem *p;

	if (aims_array_reserve((void **)&r->problems, &r->problem_cap, r->problem_count,
			       sizeof(*r->problems)) < 0)
		return AIMS_ENOMEM;
	p = &r->problems[r->problem_count];
	p->manifest = m;
	p->trigger_index = index;
	p->offset = offset;
	if (!(p->message = strdup(message)))
		return AIMS_ENOMEM;
	r->problem_count++;
	return 0;
}

/* The required literals of t, NUL-separated; "" when none. */
static const char *literals_of(const aims_router *r, const rtrigger *t)
{
	return r->literals ? r->literals + t->literal_off : "";
}

/* The compiled code of t, compiling it on first use. NULL: out of memory
 * (or a limit PCRE2 enforces that parsing did not foresee). */
static pcre2_code *trigger_code(const aims_router *cr, rtrigger *t)
{
	aims_router *r = (aims_router *)cr; /* only the atomics change */
	pcre2_code *code = atomic_load_explicit(&t->code, memory_order_acquire);
	pcre2_code *expected = NULL;
	trigger_parse p;

	if (code)
		return code;
	if (trigger_parse_text(&p, t->text, 0, r->ccontext, NULL, NULL, NULL) < 0)
		return NULL;
	/* Phrases run on PCRE2's interpreter. The index leaves about one
	 * phrase per utterance to confirm, and over thousands of phrases JIT
	 * code is cold: measured 1.2 us per match against 0.35 us
	 * interpreted (JIT wins only on a few hot patterns). JIT code also
	 * costs ~3.5 KiB per phrase against ~0.4 KiB (60,000 phrases: 200 MiB
	 * against 24 MiB). Phrases with slots get JIT all the same: their
	 * worst case (an utterance of 2,300 "send a" and no "to") costs a
	 * third of the interpreter's. Patterns get JIT, and so does the naive
	 * baseline. */
	code = trigger_compile(&p, r->ccontext,
			       r->jit && (t->regex || t->slot_terms || r->opts.no_index), NULL,
			       NULL);
	trigger_parse_free(&p);
	if (!code)
		return NULL;
	if (!atomic_compare_exchange_strong_explicit(&t->code, &expected, code,
						     memory_order_acq_rel, memory_order_acquire)) {
		pcre2_code_free(code);
		return expected;
	}
	atomic_fetch_add_explicit(&r->compiled, 1, memory_order_relaxed);
	return code;
}

static int add_trigger(aims_router *r, size_t *cap, size_t *tok_cap, size_t *lit_cap, uint32_t def,
		       uint32_t index, aims_error *err)
{
	const aims_manifest *m = r->defs[def].m;
	trigger_parse p;
	pcre2_code *code = NULL;
	aims_error perr;
	size_t offset = 0;
	rtrigger *t;
	int rc;

	aims_error_clear(&perr);
	rc = trigger_parse_text(&p, m->triggers.items[index], 0, r->ccontext, &code, &offset,
				&perr);
	if (rc == AIMS_EINVALID)
		return add_problem(r, m, index, offset, perr.message) < 0
			       ? aims_error_set(err, AIMS_ENOMEM, "out of memory")
			       : 0;
	if (rc < 0)
		return aims_error_set(err, rc, "%s", perr.message);
	if ((rc = aims_array_reserve((void **)&r->triggers, cap, r->trigger_count,
				     sizeof(*r->triggers))) < 0)
		goto out;
	t = &r->triggers[r->trigger_count];
	memset(t, 0, sizeof(*t));
	t->def = def;
	t->index = index;
	t->regex = p.regex;
	t->captures = p.captures;
	t->specificity = p.specificity;
	t->literal_chars = p.literal_chars;
	t->literal_words = p.literal_words;
	t->slot_terms = p.slot_terms;
	t->leads = p.leads;
	t->routable = r->defs[def].routable;
	t->text = m->triggers.items[index];
	t->token_off = (uint32_t)r->token_count;
	t->token_count = (uint32_t)p.token_count;
	for (size_t i = 0; i < p.token_count; i++) {
		if ((rc = aims_array_reserve((void **)&r->tokens, tok_cap, r->token_count,
					     sizeof(*r->tokens))) < 0)
			goto out;
		r->tokens[r->token_count++] = p.tokens[i];
	}
	t->literal_off = (uint32_t)r->literal_bytes;
	t->literal_count = (uint32_t)p.literal_count;
	if (p.literal_bytes) {
		while (*lit_cap < r->literal_bytes + p.literal_bytes) {
			size_t want = *lit_cap ? *lit_cap * 2 : 256;
			char *bigger = realloc(r->literals, want);

			if (!bigger) {
				rc = AIMS_ENOMEM;
				goto out;
			}
			r->literals = bigger;
			*lit_cap = want;
		}
		memcpy(r->literals + r->literal_bytes, p.literals, p.literal_bytes);
		r->literal_bytes += p.literal_bytes;
	}
	if (code) {
		if (r->jit)
			(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		atomic_store(&t->code, code);
		atomic_fetch_add(&r->compiled, 1);
		code = NULL;
	}
	if (p.captures > r->max_captures)
		r->max_captures = p.captures;
	r->trigger_count++;
out:
	pcre2_code_free(code);
	trigger_parse_free(&p);
	if (rc < 0)
		return aims_error_set(err, rc, "out of memory building the router");
	return 0;
}

static int push_always(aims_router *r, size_t *cap, uint32_t id)
{
	if (aims_array_reserve((void **)&r->always, cap, r->always_count, sizeof(*r->always)) < 0)
		return AIMS_ENOMEM;
	r->always[r->always_count++] = id;
	return 0;
}

/* Chooses each trigger's index keys (its rarest required word, the pair
 * of its two rarest words, or its rarest trigram) and builds the tables. */
static int build_index(aims_router *r)
{
	count_map words = {0}, grams = {0};
	key_pair *wpairs = NULL, *gpairs = NULL, *mpairs = NULL, *ppairs = NULL;
	size_t wcount = 0, gcount = 0, mcount = 0, pcount = 0, always_cap = 0;
	int rc;

	if ((rc = count_map_init(&words, r->token_count)) < 0 ||
	    (rc = count_map_init(&grams, r->literal_bytes)) < 0)
		goto out;
	wpairs = malloc((r->trigger_count + 1) * sizeof(*wpairs));
	gpairs = malloc((r->trigger_count + 1) * sizeof(*gpairs));
	mpairs = malloc((r->trigger_count + 1) * sizeof(*mpairs));
	ppairs = malloc((r->trigger_count + 1) * sizeof(*ppairs));
	if (!wpairs || !gpairs || !mpairs || !ppairs) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	/* document frequencies */
	for (size_t i = 0; i < r->trigger_count; i++) {
		const rtrigger *t = &r->triggers[i];
		const char *lit = literals_of(r, t);

		for (uint32_t k = 0; k < t->token_count; k++)
			(*count_map_at(&words, r->tokens[t->token_off + k]))++;
		for (uint32_t k = 0; t->regex && k < t->literal_count; k++) {
			size_t n = strlen(lit);

			for (size_t j = 0; j + TRIGRAM <= n; j++)
				(*count_map_at(&grams, trigram_key(lit + j)))++;
			lit += n + 1;
		}
	}
	for (size_t i = 0; i < r->trigger_count; i++) {
		const rtrigger *t = &r->triggers[i];
		const char *lit = literals_of(r, t);
		uint64_t best = 0, second = 0;
		uint32_t best_df = UINT32_MAX, second_df = UINT32_MAX;

		if (!t->regex) {
			for (uint32_t k = 0; k < t->token_count; k++) {
				uint64_t key = r->tokens[t->token_off + k];
				uint32_t df = *count_map_at(&words, key);

				if (df < best_df) {
					second = best;
					second_df = best_df;
					best = key;
					best_df = df;
				} else if (df < second_df) {
					second = key;
					second_df = df;
				}
			}
			if (best && !second) {
				wpairs[wcount++] = (key_pair){best, (uint32_t)i};
			} else if (best) {
				mpairs[mcount++] = (key_pair){best, (uint32_t)i};
				ppairs[pcount++] = (key_pair){pair_key(best, second), (uint32_t)i};
			}
		} else {
			for (uint32_t k = 0; k < t->literal_count; k++) {
				size_t n = strlen(lit);

				for (size_t j = 0; j + TRIGRAM <= n; j++) {
					uint64_t key = trigram_key(lit + j);
					uint32_t df = *count_map_at(&grams, key);

					if (df < best_df) {
						best = key;
						best_df = df;
					}
				}
				lit += n + 1;
			}
			if (best)
				gpairs[gcount++] = (key_pair){best, (uint32_t)i};
		}
		if (!best && (rc = push_always(r, &always_cap, (uint32_t)i)) < 0)
			goto out;
	}
	if ((rc = table_build(&r->words, wpairs, wcount)) < 0 ||
	    (rc = table_build(&r->words_multi, mpairs, mcount)) < 0 ||
	    (rc = table_build(&r->pairs, ppairs, pcount)) < 0 ||
	    (rc = table_build(&r->trigrams, gpairs, gcount)) < 0)
		goto out;
out:
	count_map_free(&words);
	count_map_free(&grams);
	free(wpairs);
	free(gpairs);
	free(mpairs);
	free(ppairs);
	return rc;
}

int aims_router_new(aims_router **out, const aims_registry *reg, const aims_router_options *opts,
		    aims_error *err)
{
	aims_router *r;
	size_t def_cap = 0, trig_cap = 0, tok_cap = 0, lit_cap = 0;
	uint32_t jit = 0;
	int rc = 0;

	if (!(r = calloc(1, sizeof(*r))))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory building the router");
	r->reg = reg;
	if (opts)
		r->opts = *opts;
	if (!r->opts.max_utterance)
		r->opts.max_utterance = AIMS_ROUTER_MAX_UTTERANCE;
	if (!r->opts.match_limit)
		r->opts.match_limit = AIMS_ROUTER_MATCH_LIMIT;
	if (!r->opts.depth_limit)
		r->opts.depth_limit = AIMS_ROUTER_DEPTH_LIMIT;
	if (!r->opts.heap_limit_kib)
		r->opts.heap_limit_kib = AIMS_ROUTER_HEAP_LIMIT;
	atomic_init(&r->compiled, 0);
	pthread_mutex_init(&r->pool_lock, NULL);
	r->jit = !r->opts.no_jit && pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit;
	r->ccontext = trigger_compile_context();
	r->mcontext = pcre2_match_context_create(NULL);
	if (!r->ccontext || !r->mcontext) {
		rc = aims_error_set(err, AIMS_ENOMEM, "out of memory building the router");
		goto out;
	}
	pcre2_set_match_limit(r->mcontext, r->opts.match_limit);
	pcre2_set_depth_limit(r->mcontext, r->opts.depth_limit);
	pcre2_set_heap_limit(r->mcontext, r->opts.heap_limit_kib);

	for (size_t i = 0; i < aims_registry_count(reg); i++) {
		const aims_manifest *m = aims_registry_at(reg, i);
		uint32_t def;

		if (!m->triggers.count || !m->id.str)
			continue;
		if ((rc = aims_array_reserve((void **)&r->defs, &def_cap, r->def_count,
					     sizeof(*r->defs))) < 0) {
			rc = aims_error_set(err, rc, "out of memory building the router");
			goto out;
		}
		def = (uint32_t)r->def_count++;
		r->defs[def].m = m;
		r->defs[def].routable = aims_status_routable(m->status);
		r->defs[def].bonus_tenths = bonus_tenths(m->priority);
		r->defs[def].hook_rank = bonus_tenths(m->priority);
		for (size_t k = 0; k < m->triggers.count; k++)
			if ((rc = add_trigger(r, &trig_cap, &tok_cap, &lit_cap, def, (uint32_t)k,
					      err)) < 0)
				goto out;
	}
	if (r->opts.no_index) {
		size_t always_cap = 0;

		for (size_t i = 0; i < r->trigger_count; i++)
			if ((rc = push_always(r, &always_cap, (uint32_t)i)) < 0)
				break;
	} else {
		rc = build_index(r);
	}
	if (rc < 0) {
		rc = aims_error_set(err, rc, "out of memory building the router");
		goto out;
	}
	if (r->opts.no_index || r->opts.eager)
		for (size_t i = 0; i < r->trigger_count; i++)
			if (!trigger_code(r, &r->triggers[i])) {
				rc = aims_error_set(err, AIMS_ENOMEM,
						    "out of memory compiling triggers");
				goto out;
			}
	*out = r;
	r = NULL;
out:
	aims_router_free(r);
	return rc;
}

void aims_router_free(aims_router *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->trigger_count; i++)
		pcre2_code_free(atomic_load(&r->triggers[i].code));
	for (size_t i = 0; i < r->problem_count; i++)
		free((char *)r->problems[i].message);
	free(r->problems);
	free(r->defs);
	free(r->triggers);
	free(r->tokens);
	free(r->literals);
	table_free(&r->words);
	table_free(&r->words_multi);
	table_free(&r->pairs);
	table_free(&r->trigrams);
	free(r->always);
	pcre2_compile_context_free(r->ccontext);
	pcre2_match_context_free(r->mcontext);
	while (r->pool) {
		match_slot *next = r->pool->next;

		slot_destroy(r->pool);
		r->pool = next;
	}
	pthread_mutex_destroy(&r->pool_lock);
	free(r);
}

size_t aims_router_problem_count(const aims_router *r)
{
	return r->problem_count;
}

const aims_router_problem *aims_router_problem_at(const aims_router *r, size_t i)
{
	return i < r->problem_count ? &r->problems[i] : NULL;
}

void aims_router_stats_get(aims_router_stats *out, const aims_router *r)
{
	size_t defs = 0;

	for (size_t i = 0; i < r->trigger_count; i++)
		defs += i == 0 || r->triggers[i].def != r->triggers[i - 1].def;
	out->definitions = defs;
	out->triggers = r->trigger_count;
	out->always = r->always_count;
	out->indexed = r->trigger_count - r->always_count;
	out->compiled = atomic_load(&((aims_router *)r)->compiled);
	out->jit = r->jit;
}

/* ---- Routing --------------------------------------------------------------- */

/* Utterances with more distinct words than this are looked up word by
 * word only (the pair lookups grow with the square of the words). */
#define PAIR_WORDS 64

/* Per-call working state. Small utterances use the inline arrays. */
typedef struct route_state {
	const aims_router *r;
	const char *utt;
	size_t len;
	unsigned flags;
	char *folded; /* folded words separated by ' ' */
	size_t folded_len;
	size_t *origin; /* byte offset in the utterance of each folded character
			 * (of a ' ': where its run of separators starts) */
	uint64_t *set;	/* distinct word hashes, open addressing */
	size_t set_mask;
	uint32_t *cands; /* selected trigger ids */
	size_t cand_count, cand_cap;
	size_t distinct; /* distinct words (the first PAIR_WORDS kept in words) */
	/* inline storage (not cleared: each is set up before use) */
	char folded_small[512];
	size_t origin_small[512];
	uint64_t set_small[256];
	uint32_t cand_small[256];
	uint64_t words[PAIR_WORDS];
} route_state;

static bool set_has(const route_state *st, uint64_t key)
{
	for (size_t i = slot_for(st->set_mask, key);; i = (i + 1) & st->set_mask) {
		if (st->set[i] == key)
			return true;
		if (st->set[i] == 0)
			return false;
	}
}

static bool set_add(route_state *st, uint64_t key)
{
	for (size_t i = slot_for(st->set_mask, key);; i = (i + 1) & st->set_mask) {
		if (st->set[i] == key)
			return false;
		if (st->set[i] == 0) {
			st->set[i] = key;
			return true;
		}
	}
}

static int add_candidate(route_state *st, uint32_t id)
{
	if (st->cand_count == st->cand_cap) {
		size_t want = st->cand_cap * 2;
		uint32_t *bigger;

		if (st->cands == st->cand_small) {
			if (!(bigger = malloc(want * sizeof(*bigger))))
				return AIMS_ENOMEM;
			memcpy(bigger, st->cands, st->cand_count * sizeof(*bigger));
		} else if (!(bigger = realloc(st->cands, want * sizeof(*bigger)))) {
			return AIMS_ENOMEM;
		}
		st->cands = bigger;
		st->cand_cap = want;
	}
	st->cands[st->cand_count++] = id;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Folds the utterance into words and fills the word set. */
static int fold_utterance(route_state *st)
{
	const unsigned char *u = (const unsigned char *)st->utt;
	size_t i = 0, n, words = 0, cap = 64;
	char *f;
	bool in_word = false;

	if (st->len >= sizeof(st->folded_small)) {
		st->folded = malloc(st->len + 1);
		st->origin = malloc((st->len + 1) * sizeof(*st->origin));
		if (!st->folded || !st->origin)
			return AIMS_ENOMEM;
	}
	f = st->folded;
	while (i < st->len) {
		char c = fold_at(u + i, st->len - i, &n);

		if (c) {
			st->origin[f - st->folded] = i;
			*f++ = c;
			words += !in_word;
			in_word = true;
		} else if (in_word) {
			st->origin[f - st->folded] = i;
			*f++ = ' ';
			in_word = false;
		}
		i += n;
	}
	*f = '\0';
	st->folded_len = (size_t)(f - st->folded);
	while (cap < words * 2)
		cap *= 2;
	st->set = cap <= 256 ? st->set_small : calloc(cap, sizeof(*st->set));
	if (!st->set)
		return AIMS_ENOMEM;
	if (st->set == st->set_small)
		memset(st->set_small, 0, cap * sizeof(*st->set));
	st->set_mask = cap - 1;
	return 0;
}

/*
 * True when the folded utterance contains every required literal of t.
 * For a phrase that starts with its first literal, *out_start is where
 * PCRE2 can start looking: the match cannot begin before the separators
 * that precede the first occurrence of that literal (any earlier start
 * would put the literal's first word somewhere it does not occur).
 */
static bool literals_present(const route_state *st, const rtrigger *t, size_t *out_start)
{
	const char *lit = literals_of(st->r, t);

	*out_start = 0;
	for (uint32_t k = 0; k < t->literal_count; k++) {
		size_t n = strlen(lit);
		const char *at = memmem(st->folded, st->folded_len, lit, n);

		if (!at)
			return false;
		if (k == 0 && t->leads) {
			size_t pos = (size_t)(at - st->folded);

			/* at the very start, the separators before the first word
			 * left no ' ' in the folded text: start at 0 */
			*out_start = pos == 0	     ? 0
				     : at[-1] == ' ' ? st->origin[pos - 1]
						     : st->origin[pos];
		}
		lit += n + 1;
	}
	return true;
}

static bool words_present(const route_state *st, const rtrigger *t)
{
	for (uint32_t k = 0; k < t->token_count; k++)
		if (!set_has(st, st->r->tokens[t->token_off + k]))
			return false;
	return true;
}

static bool def_allowed(const route_state *st, const rtrigger *t)
{
	return (st->flags & AIMS_ROUTE_INCLUDE_INACTIVE) || t->routable;
}

/* Adds the postings of key in t, keeping those whose other required
 * words are present. */
static int add_postings(route_state *st, const index_table *t, uint64_t key, uint32_t checked)
{
	const bucket *b = table_find(t, key);
	int rc;

	if (!b)
		return 0;
	for (uint32_t k = 0; k < b->count; k++) {
		uint32_t id = t->postings[b->start + k];
		const rtrigger *tr = &st->r->triggers[id];

		if (!def_allowed(st, tr) || (tr->token_count > checked && !words_present(st, tr)))
			continue;
		if ((rc = add_candidate(st, id)) < 0)
			return rc;
	}
	return 0;
}

/* Collects the triggers worth running (sorted, distinct): phrases whose
 * required words are all present, found through their rarest word or
 * pair of words; patterns whose rarest trigram is present; and the
 * triggers without a required literal. */
static int select_candidates(route_state *st)
{
	const aims_router *r = st->r;
	const char *w = st->folded, *end = st->folded + st->folded_len;
	const bucket *b;
	size_t single_cost = 0, n;
	int rc;

	/* every distinct word first, so a trigger's other words can be checked */
	while (w < end) {
		const char *e = memchr(w, ' ', (size_t)(end - w));
		uint64_t h = fold_hash_init();

		if (!e)
			e = end;
		for (const char *p = w; p < e; p++)
			h = fold_hash_step(h, *p);
		h = fold_hash_end(h);
		if (set_add(st, h)) {
			if (st->distinct < PAIR_WORDS)
				st->words[st->distinct] = h;
			st->distinct++;
		}
		if (r->trigrams.slots)
			for (const char *p = w; p + TRIGRAM <= e; p++)
				if ((b = table_find(&r->trigrams, trigram_key(p))))
					for (uint32_t k = 0; k < b->count; k++)
						if ((rc = add_candidate(
							     st,
							     r->trigrams.postings[b->start + k])) <
						    0)
							return rc;
		w = e + 1;
	}
	n = st->distinct;
	for (size_t i = 0; i < n && i < PAIR_WORDS; i++) {
		if ((rc = add_postings(st, &r->words, st->words[i], 1)) < 0)
			return rc;
		if (n <= PAIR_WORDS && (b = table_find(&r->words_multi, st->words[i])))
			single_cost += b->count;
	}
	/* Phrases of several words: through the pairs of the utterance's words
	 * when there are fewer pairs than postings to check, else word by word
	 * (either way finds every phrase whose words are all present). */
	if (n <= PAIR_WORDS && n * (n - 1) / 2 <= single_cost) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if ((rc = add_postings(st, &r->pairs,
						       pair_key(st->words[i], st->words[j]), 2)) <
				    0)
					return rc;
	} else if (n > PAIR_WORDS) {
		for (size_t i = 0; i <= st->set_mask; i++)
			if (st->set[i] &&
			    ((rc = add_postings(st, &r->words, st->set[i], 1)) < 0 ||
			     (rc = add_postings(st, &r->words_multi, st->set[i], 1)) < 0))
				return rc;
	} else {
		for (size_t i = 0; i < n; i++)
			if ((rc = add_postings(st, &r->words_multi, st->words[i], 1)) < 0)
				return rc;
	}
	for (size_t k = 0; k < r->always_count; k++)
		if ((rc = add_candidate(st, r->always[k])) < 0)
			return rc;
	if (st->cand_count > 1) {
		size_t out = 1;

		qsort(st->cands, st->cand_count, sizeof(*st->cands), cmp_u32);
		for (size_t i = 1; i < st->cand_count; i++)
			if (st->cands[i] != st->cands[out - 1])
				st->cands[out++] = st->cands[i];
		st->cand_count = out;
	}
	return 0;
}

typedef struct raw_match {
	uint32_t trigger;
	aims_trigger_match m;
} raw_match;

static int cmp_slots(const void *a, const void *b)
{
	const aims_slot *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Copies the named groups that took part in the match into slots. */
static int take_slots(aims_trigger_match *m, plan_impl *plan, const pcre2_code *code,
		      pcre2_match_data *md, const char *utt)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	uint32_t count = 0, size = 0, pairs = pcre2_get_ovector_count(md);
	PCRE2_SPTR table = NULL;
	aims_slot *slots;
	size_t n = 0;

	pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
	if (!count)
		return 0;
	pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
	if (!(slots = aims_arena_alloc(&plan->arena, count * sizeof(*slots))))
		return AIMS_ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		PCRE2_SPTR entry = table + (size_t)i * size;
		uint32_t group = ((uint32_t)entry[0] << 8) | entry[1];
		const char *name = (const char *)entry + 2;

		if (group >= pairs || ov[2 * group] == PCRE2_UNSET)
			continue;
		/* duplicate names ((?J)): the first that took part */
		if (n && strcmp(slots[n - 1].name, name) == 0)
			continue;
		slots[n].name = aims_arena_strdup(&plan->arena, name);
		slots[n].value = aims_arena_strndup(&plan->arena, utt + ov[2 * group],
						    ov[2 * group + 1] - ov[2 * group]);
		slots[n].start = ov[2 * group];
		slots[n].end = ov[2 * group + 1];
		if (!slots[n].name || !slots[n].value)
			return AIMS_ENOMEM;
		n++;
	}
	qsort(slots, n, sizeof(*slots), cmp_slots);
	m->slots = slots;
	m->slot_count = n;
	return 0;
}

static int add_warning(plan_impl *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_warning(plan_impl *plan, const char *fmt, ...)
{
	aims_plan *p = &plan->pub;
	char text[AIMS_ERROR_MESSAGE_MAX];
	va_list ap;

	if (!p->warnings &&
	    !(p->warnings = aims_arena_alloc(&plan->arena,
					     AIMS_ROUTER_MAX_WARNINGS * sizeof(*p->warnings))))
		return AIMS_ENOMEM;
	if (p->warning_count >= AIMS_ROUTER_MAX_WARNINGS)
		return 0;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!(p->warnings[p->warning_count] = aims_arena_strdup(&plan->arena, text)))
		return AIMS_ENOMEM;
	p->warning_count++;
	return 0;
}

static const char *limit_name(int rc)
{
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT: return "the match limit";
	case PCRE2_ERROR_DEPTHLIMIT: return "the depth limit";
	case PCRE2_ERROR_HEAPLIMIT: return "the heap limit";
	case PCRE2_ERROR_JIT_STACKLIMIT: return "the JIT stack limit";
	default: return NULL;
	}
}

/* Runs the selected triggers; appends their matches to *out. */
static int run_candidates(route_state *st, plan_impl *plan, raw_match **out, size_t *out_count)
{
	const aims_router *r = st->r;
	pcre2_match_data *md = NULL;
	match_slot *slot;
	size_t cap = 0;
	int rc = 0;

	if (!st->cand_count)
		return 0;
	if (!(slot = slot_get(r)))
		return AIMS_ENOMEM;
	md = slot->md;
	for (size_t c = 0; c < st->cand_count; c++) {
		rtrigger *t = &r->triggers[st->cands[c]];
		size_t start = 0;
		pcre2_code *code;
		PCRE2_SIZE *ov;
		raw_match *rm;
		int mrc;

		if (!def_allowed(st, t))
			continue;
		/* the naive baseline runs PCRE2 on every trigger */
		if (!r->opts.no_index && !literals_present(st, t, &start))
			continue;
		if (!(code = trigger_code(r, t))) {
			if ((rc = add_warning(plan, "trigger \"%.60s\" of %s could not be compiled",
					      t->text, r->defs[t->def].m->id.str)) < 0)
				goto out;
			continue;
		}
		plan->pub.triggers_tried++;
		mrc = pcre2_match(code, (PCRE2_SPTR)st->utt, st->len, start,
				  PCRE2_NO_UTF_CHECK | (t->regex ? PCRE2_NOTEMPTY : 0), md,
				  r->mcontext);
		if (mrc == PCRE2_ERROR_NOMATCH)
			continue;
		if (mrc < 0) {
			const char *limit = limit_name(mrc);
			PCRE2_UCHAR message[128];

			if (!limit) {
				pcre2_get_error_message(mrc, message, sizeof(message));
				limit = (const char *)message;
			}
			if ((rc = add_warning(plan,
					      "trigger \"%.60s\" of %s was skipped: it reached %s "
					      "on this utterance",
					      t->text, r->defs[t->def].m->id.str, limit)) < 0)
				goto out;
			continue;
		}
		if ((rc = aims_array_reserve((void **)out, &cap, *out_count, sizeof(**out))) < 0)
			goto out;
		rm = &(*out)[(*out_count)++];
		memset(rm, 0, sizeof(*rm));
		ov = pcre2_get_ovector_pointer(md);
		rm->trigger = st->cands[c];
		rm->m.trigger_index = t->index;
		rm->m.trigger = t->text;
		rm->m.regex = t->regex;
		rm->m.start = ov[0];
		rm->m.end = ov[1];
		rm->m.specificity = t->specificity;
		rm->m.literal_chars = t->literal_chars;
		rm->m.literal_words = t->literal_words;
		rm->m.slot_terms = t->slot_terms;
		if ((rc = take_slots(&rm->m, plan, code, md, st->utt)) < 0)
			goto out;
	}
out:
	slot_put(r, slot);
	return rc;
}

typedef struct ranked {
	aims_candidate c;
	uint32_t def;
	long key; /* score in tenths */
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	int d;

	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	if ((d = strcmp(x->c.id, y->c.id)) != 0)
		return d;
	if (x->c.kind != y->c.kind)
		return x->c.kind < y->c.kind ? -1 : 1;
	return x->def < y->def ? -1 : x->def > y->def;
}

static int cmp_matches(const void *a, const void *b)
{
	const aims_trigger_match *x = a, *y = b;

	if (x->specificity != y->specificity)
		return x->specificity > y->specificity ? -1 : 1;
	return x->trigger_index < y->trigger_index ? -1 : x->trigger_index > y->trigger_index;
}

/* Groups the matches by definition into ranked candidates, then fills in
 * the plan's lists. */
static int make_plan(route_state *st, plan_impl *plan, raw_match *raw, size_t raw_count)
{
	const aims_router *r = st->r;
	aims_plan *p = &plan->pub;
	ranked *rk = NULL;
	size_t count = 0, total = count_nonspace(st->utt, st->len);
	long best_task = 0;
	int rc = 0;

	if (raw_count && !(rk = calloc(raw_count, sizeof(*rk))))
		return AIMS_ENOMEM;
	for (size_t i = 0; i < raw_count;) {
		uint32_t def = r->triggers[raw[i].trigger].def;
		const rdef *d = &r->defs[def];
		size_t j = i, n;
		aims_trigger_match *ms;
		ranked *x = &rk[count++];

		while (j < raw_count && r->triggers[raw[j].trigger].def == def)
			j++;
		n = j - i;
		if (!(ms = aims_arena_alloc(&plan->arena, n * sizeof(*ms)))) {
			rc = AIMS_ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < n; k++)
			ms[k] = raw[i + k].m;
		qsort(ms, n, sizeof(*ms), cmp_matches);
		x->def = def;
		x->c.manifest = d->m;
		x->c.id = d->m->id.str;
		x->c.kind = d->m->kind;
		x->c.best = ms[0];
		x->c.matches = ms;
		x->c.match_count = (st->flags & AIMS_ROUTE_ALL_MATCHES) ? n : 1;
		x->c.priority_bonus = d->bonus_tenths / 10.0;
		x->key = (long)ms[0].specificity * 10 + d->bonus_tenths;
		x->c.score = (double)x->key / 10.0;
		x->c.confidence = total ? (double)count_nonspace(st->utt + ms[0].start,
								 ms[0].end - ms[0].start) /
						  (double)total
					: 0.0;
		if (x->c.confidence > 1.0)
			x->c.confidence = 1.0;
		x->c.ready = true;
		i = j;
	}
	if (count)
		qsort(rk, count, sizeof(*rk), cmp_ranked);
	p->candidate_count = count;
	p->candidates = aims_arena_alloc(&plan->arena, (count + 1) * sizeof(*p->candidates));
	p->hooks = aims_arena_alloc(&plan->arena, (count + 1) * sizeof(*p->hooks));
	p->skills = aims_arena_alloc(&plan->arena, (count + 1) * sizeof(*p->skills));
	p->alternatives = aims_arena_alloc(&plan->arena, (count + 1) * sizeof(*p->alternatives));
	if (!p->candidates || !p->hooks || !p->skills || !p->alternatives) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		p->candidates[i] = rk[i].c;
	/* hooks by priority (stable over candidate order), skills, tasks */
	for (int rank = 3; rank >= 0; rank--)
		for (size_t i = 0; i < count; i++)
			if (p->candidates[i].kind == AIMS_KIND_HOOK &&
			    r->defs[rk[i].def].hook_rank == rank)
				p->hooks[p->hook_count++] = &p->candidates[i];
	for (size_t i = 0; i < count; i++) {
		const aims_candidate *c = &p->candidates[i];

		if (c->kind == AIMS_KIND_SKILL) {
			p->skills[p->skill_count++] = c;
		} else if (c->kind == AIMS_KIND_TASK) {
			if (!p->task) {
				p->task = c;
				best_task = rk[i].key;
			} else if ((double)(best_task - rk[i].key) <
				   AIMS_ROUTER_AMBIGUITY_MARGIN * 10) {
				p->alternatives[p->alternative_count++] = c;
			}
		}
	}
	p->status = !count		   ? AIMS_PLAN_NO_MATCH
		    : p->alternative_count ? AIMS_PLAN_AMBIGUOUS
					   : AIMS_PLAN_MATCHED;
out:
	free(rk);
	return rc;
}

int aims_router_route(aims_plan **out, const aims_router *r, const char *utterance, size_t len,
		      unsigned flags, aims_error *err)
{
	route_state st;
	plan_impl *plan = NULL;
	raw_match *raw = NULL;
	size_t raw_count = 0, bad;
	int rc = 0;

	memset(&st, 0, offsetof(route_state, folded_small));
	st.folded = st.folded_small;
	st.origin = st.origin_small;
	st.set = st.set_small;
	st.r = r;
	st.utt = utterance;
	st.len = len;
	st.flags = flags;
	st.cands = st.cand_small;
	st.cand_cap = sizeof(st.cand_small) / sizeof(st.cand_small[0]);
	if (len > r->opts.max_utterance)
		return aims_error_set(err, AIMS_ETOOBIG,
				      "utterance is %zu bytes, over the limit of %zu bytes", len,
				      r->opts.max_utterance);
	if ((bad = utf8_invalid_offset(utterance, len)) < len)
		return aims_error_set(err, AIMS_EINVALID, "utterance is not valid UTF-8 (byte %zu)",
				      bad);
	if (!(plan = calloc(1, sizeof(*plan)))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	aims_arena_init(&plan->arena);
	if (!(plan->pub.utterance = aims_arena_strndup(&plan->arena, utterance, len))) {
		rc = AIMS_ENOMEM;
		goto out;
	}
	plan->pub.utterance_len = len;
	if ((rc = fold_utterance(&st)) < 0 || (rc = select_candidates(&st)) < 0 ||
	    (rc = run_candidates(&st, plan, &raw, &raw_count)) < 0 ||
	    (rc = make_plan(&st, plan, raw, raw_count)) < 0)
		goto out;
	*out = &plan->pub;
	plan = NULL;
out:
	if (rc < 0)
		rc = aims_error_set(err, rc, "out of memory while routing");
	free(raw);
	if (st.folded != st.folded_small)
		free(st.folded);
	if (st.origin != st.origin_small)
		free(st.origin);
	if (st.set != st.set_small)
		free(st.set);
	if (st.cands != st.cand_small)
		free(st.cands);
	aims_plan_free(plan ? &plan->pub : NULL);
	return rc;
}

void aims_plan_free(aims_plan *p)
{
	plan_impl *plan = (plan_impl *)p;

	if (!plan)
		return;
	aims_arena_free(&plan->arena);
	free(plan);
}

int aims_plan_set_missing(aims_plan *p, size_t i, const char *const *missing, size_t count,
			  aims_error *err)
{
	plan_impl *plan = (plan_impl *)p;
	aims_candidate *c;
	const char **copy;

	if (i >= p->candidate_count)
		return aims_error_set(err, AIMS_EINVALID, "no candidate %zu in the plan", i);
	c = &p->candidates[i];
	if (!(copy = aims_arena_alloc(&plan->arena, (count + 1) * sizeof(*copy))))
		return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	for (size_t k = 0; k < count; k++)
		if (!(copy[k] = aims_arena_strdup(&plan->arena, missing[k])))
			return aims_error_set(err, AIMS_ENOMEM, "out of memory");
	c->missing = copy;
	c->missing_count = count;
	c->ready = count == 0;
	return 0;
}

const char *aims_plan_status_name(aims_plan_status status)
{
	switch (status) {
	case AIMS_PLAN_MATCHED: return "matched";
	case AIMS_PLAN_AMBIGUOUS: return "ambiguous";
	default: return "no_match";
	}
}

size_t aims_candidate_explain(char *buf, size_t size, const aims_candidate *c,
			      const aims_plan *plan)
{
	const aims_trigger_match *m = &c->best;
	size_t total = count_nonspace(plan->utterance, plan->utterance_len);
	size_t covered = count_nonspace(plan->utterance + m->start, m->end - m->start);
	char parts[256], others[64] = "";
	int n;

	if (m->regex)
		snprintf(parts, sizeof(parts),
			 "pattern: 1 + %u required literal character%s + %u slot%s x %d = %u",
			 m->literal_chars, m->literal_chars == 1 ? "" : "s", m->slot_terms,
			 m->slot_terms == 1 ? "" : "s", AIMS_ROUTER_SLOT_WEIGHT, m->specificity);
	else
		snprintf(parts, sizeof(parts),
			 "phrase: %u literal character%s + %u word%s x %d + %u slot%s x %d = %u",
			 m->literal_chars, m->literal_chars == 1 ? "" : "s", m->literal_words,
			 m->literal_words == 1 ? "" : "s", AIMS_ROUTER_WORD_WEIGHT, m->slot_terms,
			 m->slot_terms == 1 ? "" : "s", AIMS_ROUTER_SLOT_WEIGHT, m->specificity);
	if (c->match_count > 1)
		snprintf(others, sizeof(others), "; best of %zu matching triggers", c->match_count);
	n = snprintf(buf, size,
		     "%s; priority %s +%.1f; score %.1f; span %zu-%zu explains %zu of %zu "
		     "characters (confidence %.2f)%s",
		     parts, aims_priority_name(c->manifest->priority), c->priority_bonus, c->score,
		     m->start, m->end, covered, total, c->confidence, others);
	return n < 0 ? 0 : (size_t)n;
}
