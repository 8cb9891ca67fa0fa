/*
 * plan.c - the JSON view of a routing plan (aims match --json and
 * POST /api/route).
 */
#include <stdlib.h>
#include <string.h>

#include "aims/json.h"

/* Rounds a non-negative value to 1/scale (scores and confidences). */
static double round_to(double value, double scale)
{
	return (double)(long long)(value * scale + 0.5) / scale;
}

static cJSON *span(size_t start, size_t end)
{
	cJSON *obj = cJSON_CreateObject();

	if (obj) {
		cJSON_AddNumberToObject(obj, "start", (double)start);
		cJSON_AddNumberToObject(obj, "end", (double)end);
	}
	return obj;
}

static cJSON *slots_object(const aims_trigger_match *m)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; obj && i < m->slot_count; i++)
		cJSON_AddStringToObject(obj, m->slots[i].name, m->slots[i].value);
	return obj;
}

static cJSON *slot_spans(const aims_trigger_match *m)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; obj && i < m->slot_count; i++)
		cJSON_AddItemToObject(obj, m->slots[i].name,
				      span(m->slots[i].start, m->slots[i].end));
	return obj;
}

/* trigger, triggerIndex, regex, span, text and slots of a match */
static void add_match_fields(cJSON *obj, const aims_trigger_match *m, const aims_plan *plan)
{
	char *text = strndup(plan->utterance + m->start, m->end - m->start);

	cJSON_AddStringToObject(obj, "trigger", m->trigger);
	cJSON_AddNumberToObject(obj, "triggerIndex", (double)m->trigger_index);
	cJSON_AddBoolToObject(obj, "regex", m->regex);
	cJSON_AddItemToObject(obj, "span", span(m->start, m->end));
	cJSON_AddStringToObject(obj, "text", text ? text : "");
	free(text);
	cJSON_AddItemToObject(obj, "slots", slots_object(m));
}

static cJSON *match_json(const aims_trigger_match *m, const aims_plan *plan)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	add_match_fields(obj, m, plan);
	cJSON_AddNumberToObject(obj, "specificity", m->specificity);
	return obj;
}

static const char *status_text(const aims_manifest *m)
{
	return m->status == AIMS_STATUS_OTHER && m->status_field.str ? m->status_field.str
								     : aims_status_name(m->status);
}

static cJSON *candidate_json(const aims_candidate *c, const aims_plan *plan, unsigned flags)
{
	const aims_manifest *m = c->manifest;
	const aims_trigger_match *b = &c->best;
	cJSON *obj = cJSON_CreateObject(), *missing;

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "id", c->id);
	cJSON_AddStringToObject(obj, "kind", aims_kind_name(c->kind));
	if (m->name.str)
		cJSON_AddStringToObject(obj, "name", m->name.str);
	else
		cJSON_AddNullToObject(obj, "name");
	cJSON_AddStringToObject(obj, "status", status_text(m));
	cJSON_AddStringToObject(obj, "priority",
				m->priority == AIMS_PRIORITY_OTHER && m->priority_field.str
					? m->priority_field.str
					: aims_priority_name(m->priority));
	cJSON_AddNumberToObject(obj, "score", round_to(c->score, 10));
	cJSON_AddNumberToObject(obj, "confidence", round_to(c->confidence, 1000));
	add_match_fields(obj, b, plan);
	cJSON_AddBoolToObject(obj, "ready", c->ready);
	missing = cJSON_AddArrayToObject(obj, "missing");
	for (size_t i = 0; missing && i < c->missing_count; i++)
		cJSON_AddItemToArray(missing, cJSON_CreateString(c->missing[i]));
	cJSON_AddStringToObject(obj, "path", m->path);
	if (c->match_count > 1) {
		cJSON *arr = cJSON_AddArrayToObject(obj, "matches");

		for (size_t i = 0; arr && i < c->match_count; i++)
			cJSON_AddItemToArray(arr, match_json(&c->matches[i], plan));
	}
	if (flags & AIMS_JSON_PLAN_EXPLAIN) {
		cJSON *parts = cJSON_AddObjectToObject(obj, "scoreParts");
		size_t need = aims_candidate_explain(NULL, 0, c, plan);
		char *why = malloc(need + 1);

		if (parts) {
			cJSON_AddNumberToObject(parts, "specificity", b->specificity);
			cJSON_AddNumberToObject(parts, "literalChars", b->literal_chars);
			cJSON_AddNumberToObject(parts, "literalWords", b->literal_words);
			cJSON_AddNumberToObject(parts, "slots", b->slot_terms);
			cJSON_AddNumberToObject(parts, "priorityBonus",
						round_to(c->priority_bonus, 10));
		}
		cJSON_AddItemToObject(obj, "slotSpans", slot_spans(b));
		if (why) {
			aims_candidate_explain(why, need + 1, c, plan);
			cJSON_AddStringToObject(obj, "explain", why);
			free(why);
		}
	}
	return obj;
}

static void add_list(cJSON *obj, const char *name, const aims_candidate *const *items, size_t count,
		     const aims_plan *plan, unsigned flags)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, name);

	for (size_t i = 0; arr && i < count; i++)
		cJSON_AddItemToArray(arr, candidate_json(items[i], plan, flags));
}

cJSON *aims_json_plan(const aims_plan *plan, unsigned flags)
{
	cJSON *obj = cJSON_CreateObject(), *arr;

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "utterance", plan->utterance);
	cJSON_AddStringToObject(obj, "status", aims_plan_status_name(plan->status));
	if (plan->task)
		cJSON_AddItemToObject(obj, "task", candidate_json(plan->task, plan, flags));
	else
		cJSON_AddNullToObject(obj, "task");
	add_list(obj, "alternatives", plan->alternatives, plan->alternative_count, plan, flags);
	add_list(obj, "hooks", plan->hooks, plan->hook_count, plan, flags);
	add_list(obj, "skills", plan->skills, plan->skill_count, plan, flags);
	arr = cJSON_AddArrayToObject(obj, "candidates");
	for (size_t i = 0; arr && i < plan->candidate_count; i++)
		cJSON_AddItemToArray(arr, candidate_json(&plan->candidates[i], plan, flags));
	arr = cJSON_AddArrayToObject(obj, "warnings");
	for (size_t i = 0; arr && i < plan->warning_count; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(plan->warnings[i]));
	return obj;
}
