/*
 * plan.c - readiness in a routed plan: the router knows nothing of
 * requirements, so each candidate is checked here and marked.
 */
#include <stdlib.h>

#include "aims/check.h"
#include "aims/router.h"

int aims_check_plan(aims_plan *plan, const aims_check_options *opts, aims_error *err)
{
	for (size_t i = 0; i < plan->candidate_count; i++) {
		aims_readiness *r = NULL;
		const char **missing = NULL;
		size_t n = 0;
		int rc;

		if ((rc = aims_check_definition(&r, plan->candidates[i].manifest, opts, err)) < 0)
			return rc;
		if (!r->ready) {
			if (!(missing = calloc(r->count, sizeof(*missing)))) {
				aims_readiness_free(r);
				return aims_error_set(err, AIMS_ENOMEM, "out of memory");
			}
			for (size_t j = 0; j < r->count; j++)
				if (!r->items[j].met && !r->items[j].informational)
					missing[n++] = r->items[j].name;
			rc = aims_plan_set_missing(plan, i, missing, n, err);
			free(missing);
		}
		aims_readiness_free(r);
		if (rc < 0)
			return rc;
	}
	return 0;
}
