#include <zlib.h>

/// `inflateInit2` is a macro; this is a plain function Swift can call.
static inline int czlib_inflate_init_raw(z_stream *stream) { return inflateInit2(stream, -MAX_WBITS); }
