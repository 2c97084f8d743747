// Typed wrappers for jansson's function-like macros, which Swift cannot import.
#ifndef FARM_CJANSSON_SHIM_H
#define FARM_CJANSSON_SHIM_H
#include <jansson.h>

static inline json_type cjansson_typeof(const json_t *j) { return json_typeof(j); }
static inline json_t *cjansson_boolean(int value) { return json_boolean(value); }
static inline size_t cjansson_indent(int n) { return JSON_INDENT(n); }
static inline size_t cjansson_real_precision(int n) { return JSON_REAL_PRECISION(n); }

#endif
