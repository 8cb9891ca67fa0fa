/*
 * router.h - routing an utterance to definitions by their triggers
 * (SPEC §4), and the plan that results.
 *
 * A router is built once from a registry and then answers any number of
 * route calls, from any number of threads at once (after aims_router_new
 * only two things change: trigger code compiled on first use, published
 * atomically, and a mutex-protected pool of PCRE2 match data). The
 * registry must outlive the router; plans borrow manifests from it.
 *
 * Triggers (docs/routing.md has the full grammar):
 *   - a phrase: case-insensitive, Unicode aware, any whitespace run between
 *     words, only at word edges (not next to a letter, digit or "_");
 *     regex metacharacters are literal: "run python", "c++", "/ui";
 *   - {name} inside a phrase is a slot that captures text: "flip {address}";
 *     "{{" and "}}" are literal braces;
 *   - "re:" followed by a PCRE2 pattern; named groups are slots.
 *
 * Routing never runs every trigger: an index of the literal words each
 * phrase needs (and of literal trigrams for patterns) selects the few
 * triggers worth confirming with PCRE2. Matching is bounded: an utterance
 * size limit and PCRE2 match, depth and heap limits.
 */
#ifndef AIMS_ROUTER_H
#define AIMS_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aims/core.h"
#include "aims/manifest.h"
#include "aims/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Named limits. */
#define AIMS_ROUTER_MAX_UTTERANCE  (16u << 10) /* default utterance limit, bytes */
#define AIMS_ROUTER_MAX_TRIGGER	   4096	       /* one trigger's text, bytes */
#define AIMS_ROUTER_MAX_SLOTS	   16	       /* slots (named groups) per trigger */
#define AIMS_ROUTER_MAX_SLOT_CHARS 256	       /* a slot followed by more of the phrase */
#define AIMS_ROUTER_MATCH_LIMIT	   200000      /* PCRE2 match limit per trigger */
#define AIMS_ROUTER_DEPTH_LIMIT	   10000       /* PCRE2 depth limit per trigger */
#define AIMS_ROUTER_HEAP_LIMIT	   8192	       /* PCRE2 heap limit, KiB */
#define AIMS_ROUTER_MAX_WARNINGS   16	       /* warnings kept per plan */

/*
 * Two tasks whose scores differ by less than this make the plan
 * `ambiguous`. Scores count literal characters, so 1.0 means "less than
 * one character apart": the same specificity whatever their priorities
 * (priority still picks `task`, but the plan says the choice was close
 * and shows the other task under `alternatives`), or one character less
 * specific but of higher priority.
 */
#define AIMS_ROUTER_AMBIGUITY_MARGIN 1.0

typedef struct aims_router aims_router;

typedef struct aims_router_options {
	/* Utterance limit in bytes; 0 means AIMS_ROUTER_MAX_UTTERANCE. */
	size_t max_utterance;
	/* PCRE2 limits; 0 means the AIMS_ROUTER_* default. */
	uint32_t match_limit;
	uint32_t depth_limit;
	uint32_t heap_limit_kib;
	/* Baseline for benchmarks and differential tests: no index and no
	 * literal checks, every trigger compiled (with JIT) when the router is
	 * built and run by PCRE2 on every utterance. Plans are identical to
	 * the indexed router's. */
	bool no_index;
	/* Compile every trigger when the router is built instead of on first
	 * use (slower start, no compilation while routing). */
	bool eager;
	/* Never use PCRE2's JIT, only its interpreter (for valgrind, which
	 * cannot follow JIT code, or systems that refuse executable memory;
	 * without JIT support in PCRE2 this is what happens anyway). */
	bool no_jit;
} aims_router_options;

/* A trigger that could not be compiled: skipped by the router. */
typedef struct aims_router_problem {
	const aims_manifest *manifest; /* borrowed from the registry */
	size_t trigger_index;	       /* index in manifest->triggers */
	size_t offset;		       /* byte offset of the problem in the trigger */
	const char *message;	       /* owned by the router */
} aims_router_problem;

/*
 * Builds a router over every definition of reg that has triggers (all
 * statuses: inactive ones are filtered per route call). opts may be NULL
 * for the defaults. Triggers that cannot compile are recorded as problems
 * (aims_router_problem_at) and skipped: building fails only with
 * AIMS_ENOMEM. reg must outlive the router.
 */
int aims_router_new(aims_router **out, const aims_registry *reg, const aims_router_options *opts,
		    aims_error *err);

/* Frees the router and its compiled code. router may be NULL. Plans made
 * by the router stay valid (they borrow only from the registry). */
void aims_router_free(aims_router *router);

/* Number of triggers skipped because they could not compile, and each of
 * them (borrowed from the router), in registry order. */
size_t aims_router_problem_count(const aims_router *router);
const aims_router_problem *aims_router_problem_at(const aims_router *router, size_t i);

/* Counts for tests and benchmarks. */
typedef struct aims_router_stats {
	size_t definitions; /* definitions with at least one usable trigger */
	size_t triggers;    /* usable triggers */
	size_t indexed;	    /* triggers reached through the word or trigram index */
	size_t always;	    /* triggers without a required literal: tried on every route */
	size_t compiled;    /* triggers compiled so far */
	bool jit;	    /* JIT available: used for patterns (phrases are interpreted
			     * except by the naive baseline) */
} aims_router_stats;

void aims_router_stats_get(aims_router_stats *out, const aims_router *router);

/*
 * Compiles one trigger the way the router would. Returns 0 when it
 * compiles; otherwise AIMS_EINVALID with a message in err and the byte
 * offset of the problem within trigger in *out_offset (out_offset may be
 * NULL). Used by validation.
 */
int aims_router_check_trigger(const char *trigger, size_t *out_offset, aims_error *err);

/* ---- Plans -------------------------------------------------------------- */

typedef enum aims_plan_status {
	AIMS_PLAN_NO_MATCH = 0,
	AIMS_PLAN_MATCHED,
	AIMS_PLAN_AMBIGUOUS
} aims_plan_status;

/* A captured slot: name and text (NUL-terminated copies) and the byte
 * span of the text in the utterance. */
typedef struct aims_slot {
	const char *name;
	const char *value;
	size_t start;
	size_t end;
} aims_slot;

/* One trigger matched in the utterance. */
typedef struct aims_trigger_match {
	size_t trigger_index; /* index in manifest->triggers */
	const char *trigger;  /* the trigger text (borrowed from the manifest) */
	bool regex;	      /* an re: trigger */
	size_t start, end;    /* byte span of the match in the utterance */
	/* Specificity = literal_chars + AIMS_ROUTER_WORD_WEIGHT * literal_words
	 * + AIMS_ROUTER_SLOT_WEIGHT * slots (patterns: their required literal
	 * characters + slots + 1, without the word weight). */
	unsigned specificity;
	unsigned literal_chars; /* literal characters the trigger spells out */
	unsigned literal_words; /* whitespace-separated literal words (phrases) */
	unsigned slot_terms;	/* slots in the trigger */
	size_t slot_count;	/* slots captured (named groups that took part) */
	const aims_slot *slots;
} aims_trigger_match;

#define AIMS_ROUTER_WORD_WEIGHT 2
#define AIMS_ROUTER_SLOT_WEIGHT 1

/*
 * A definition that matched: its best trigger (the most specific; then
 * the first in the manifest) and the resulting score.
 */
typedef struct aims_candidate {
	const aims_manifest *manifest; /* borrowed from the registry */
	const char *id;
	aims_kind kind;
	/* score = best.specificity + priority_bonus (critical 0.3, high 0.2,
	 * medium or unset 0.1, low 0): the bonus breaks ties, never beats a
	 * more specific trigger. */
	double score;
	double priority_bonus;
	/* Share of the utterance the match explains: non-space characters in
	 * the span over non-space characters in the utterance, in [0, 1]. */
	double confidence;
	aims_trigger_match best;
	/* Every matching trigger of the definition, best first (best is
	 * matches[0]); only when routed with AIMS_ROUTE_ALL_MATCHES, else
	 * match_count is 1. */
	size_t match_count;
	const aims_trigger_match *matches;
	/*
	 * Readiness is not the router's business (requirements, SPEC §5): a
	 * candidate is created ready with no missing requirements, and the
	 * requirements checker records what is missing with
	 * aims_plan_set_missing().
	 */
	bool ready;
	size_t missing_count;
	const char *const *missing;
} aims_candidate;

/* Flags for aims_router_route. */
enum {
	AIMS_ROUTE_INCLUDE_INACTIVE = 1 << 0, /* route every status, not only active/beta */
	AIMS_ROUTE_ALL_MATCHES = 1 << 1,      /* keep every matching trigger per candidate */
};

typedef struct aims_plan {
	const char *utterance; /* a copy, NUL-terminated */
	size_t utterance_len;
	aims_plan_status status;
	/* Every candidate, best first: score (descending), then id, then kind,
	 * then registry order. */
	size_t candidate_count;
	aims_candidate *candidates;
	/* Pointers into candidates. */
	const aims_candidate *task; /* the best task, or NULL */
	size_t alternative_count;   /* other tasks within the margin (ambiguous) */
	const aims_candidate **alternatives;
	size_t hook_count; /* every hook, priority order (then score, id) */
	const aims_candidate **hooks;
	size_t skill_count; /* every skill, candidate order */
	const aims_candidate **skills;
	/* Problems met while routing (a pattern that hit a PCRE2 limit and was
	 * skipped), at most AIMS_ROUTER_MAX_WARNINGS. */
	size_t warning_count;
	const char **warnings;
	/* How many triggers the index selected and PCRE2 confirmed. */
	size_t triggers_tried;
} aims_plan;

/*
 * Routes utterance (len bytes, UTF-8) and returns a new plan in *out (free
 * with aims_plan_free). An utterance that matches nothing is a plan with
 * status AIMS_PLAN_NO_MATCH, not an error. Fails with AIMS_ETOOBIG when
 * the utterance is over the router's limit, AIMS_EINVALID when it is not
 * valid UTF-8, AIMS_ENOMEM. Safe to call from several threads at once.
 */
int aims_router_route(aims_plan **out, const aims_router *router, const char *utterance, size_t len,
		      unsigned flags, aims_error *err);

/* Frees a plan. plan may be NULL. */
void aims_plan_free(aims_plan *plan);

/*
 * Marks candidate i of plan as not ready, with copies of the count
 * strings in missing (for the requirements checker). Returns 0 or
 * AIMS_ENOMEM.
 */
int aims_plan_set_missing(aims_plan *plan, size_t i, const char *const *missing, size_t count,
			  aims_error *err);

/*
 * Writes a one-line explanation of how candidate c scored (what the
 * trigger spells out, the priority bonus, what share of the utterance it
 * explains) into buf (size bytes, always NUL-terminated when size > 0).
 * Returns the length the full text needs, like snprintf.
 */
size_t aims_candidate_explain(char *buf, size_t size, const aims_candidate *c,
			      const aims_plan *plan);

/* "matched", "ambiguous" or "no_match" (static). */
const char *aims_plan_status_name(aims_plan_status status);

#ifdef __cplusplus
}
#endif
#endif
