// Typed, non-variadic wrappers for curl_easy_setopt / curl_easy_getinfo, which Swift cannot call.
#ifndef FARM_CCURL_SHIM_H
#define FARM_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*ccurl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline long ccurl_global_default(void) { return CURL_GLOBAL_DEFAULT; }
static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption opt, long v) { return curl_easy_setopt(h, opt, v); }
static inline CURLcode ccurl_setopt_off(CURL *h, CURLoption opt, curl_off_t v) { return curl_easy_setopt(h, opt, v); }
static inline CURLcode ccurl_setopt_string(CURL *h, CURLoption opt, const char *v) { return curl_easy_setopt(h, opt, v); }
static inline CURLcode ccurl_setopt_pointer(CURL *h, CURLoption opt, void *v) { return curl_easy_setopt(h, opt, v); }
static inline CURLcode ccurl_setopt_slist(CURL *h, CURLoption opt, struct curl_slist *v) { return curl_easy_setopt(h, opt, v); }
static inline CURLcode ccurl_setopt_callback(CURL *h, CURLoption opt, ccurl_data_callback v) { return curl_easy_setopt(h, opt, v); }
static inline CURLcode ccurl_getinfo_long(CURL *h, CURLINFO info, long *out) { return curl_easy_getinfo(h, info, out); }
static inline CURLcode ccurl_getinfo_string(CURL *h, CURLINFO info, char **out) { return curl_easy_getinfo(h, info, out); }
static inline CURLcode ccurl_getinfo_off(CURL *h, CURLINFO info, curl_off_t *out) { return curl_easy_getinfo(h, info, out); }

// For the HTTP client (FarmKit/HTTP): upload rewinding, multipart bodies and macros Swift does not import.
typedef int (*ccurl_seek_callback)(void *userdata, curl_off_t offset, int origin);
static inline CURLcode ccurl_setopt_seek_callback(CURL *h, ccurl_seek_callback v) { return curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, v); }
static inline CURLcode ccurl_setopt_mime(CURL *h, curl_mime *v) { return curl_easy_setopt(h, CURLOPT_MIMEPOST, v); }
static inline size_t ccurl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline int ccurl_seekfunc_ok(void) { return CURL_SEEKFUNC_OK; }
static inline int ccurl_seekfunc_fail(void) { return CURL_SEEKFUNC_FAIL; }
static inline size_t ccurl_error_size(void) { return CURL_ERROR_SIZE; }
typedef curl_socket_t (*ccurl_opensocket_callback)(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);
static inline CURLcode ccurl_setopt_opensocket_callback(CURL *h, ccurl_opensocket_callback v) { return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, v); }
static inline curl_socket_t ccurl_socket_bad(void) { return CURL_SOCKET_BAD; }

#endif

/// CURLOPT_AWS_SIGV4: sign the request with AWS Signature Version 4, `provider` as "aws:amz:REGION:SERVICE";
/// the access key and secret go in CURLOPT_USERNAME and CURLOPT_PASSWORD.
static inline CURLcode ccurl_setopt_aws_sigv4(CURL *h, const char *provider) { return curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider); }

