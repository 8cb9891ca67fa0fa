/*
 * dynlib.c - see dynlib.h.
 */
#include <dlfcn.h>

#include "core/dynlib.h"

bool aims_dynlib_load(const char *const *names, size_t name_count, const aims_dynsym *syms,
		      size_t sym_count)
{
	for (size_t i = 0; i < name_count; i++) {
		void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		bool ok = lib != NULL;

		for (size_t s = 0; ok && s < sym_count; s++)
			ok = (*syms[s].slot = dlsym(lib, syms[s].name)) != NULL;
		if (ok)
			return true;
		if (lib)
			dlclose(lib);
	}
	return false;
}
