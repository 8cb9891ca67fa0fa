/*
 * fuzz_frontmatter.c - the front-matter loader and the validator on
 * arbitrary bytes: split, YAML (libyaml events to the tree), typed fields,
 * inference, the markdown body, every per-file rule, and the text and JSON
 * renderings. Nothing may crash, hang, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "aims/json.h"
#include "aims/manifest.h"
#include "aims/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	aims_manifest *m = NULL;
	aims_validation *v = NULL;

	if (aims_manifest_parse(&m, "skills/fuzz.md", text, size, NULL) == 0) {
		cJSON *json = aims_json_manifest(m, AIMS_JSON_FULL);

		cJSON_Delete(json);
		aims_manifest_free(m);
	}
	/* The validation load: bodies scanned for json fences, parsed or not. */
	if (aims_manifest_parse_flags(&m, "tasks/fuzz.md", text, size,
				      AIMS_MANIFEST_JSON_BLOCKS_ONLY, NULL) == 0)
		aims_manifest_free(m);
	if (aims_validate_text(&v, "skills/fuzz.md", text, size, NULL, NULL) == 0) {
		aims_buf buf;
		cJSON *json = aims_json_sarif(v, "/w");

		aims_buf_init(&buf, AIMS_VALIDATE_MAX_OUTPUT);
		aims_validate_format_github(&buf, v, "/w");
		aims_buf_free(&buf);
		cJSON_Delete(json);
		aims_validate_free(v);
	}
	return 0;
}
