/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RPC_INTERNAL_H
#define DISKENGINE_RPC_INTERNAL_H

/* Private to src/rpc (and its tests and fuzz targets): the only place jansson types appear. */

#include <jansson.h>
#include <stdbool.h>

#include "rpc/rpc.h"
#include "rpc/spdk.h"

/* ---- framing (rpc_frame.c): a byte stream of concatenated JSON values ---- */

struct rpc_frame {
	char *buf;	  /* bytes received and not yet consumed */
	size_t len;	  /* bytes in buf */
	size_t cap;	  /* allocated size of buf */
	size_t max;	  /* cap on one value's size */
	size_t tried_len; /* len at the last parse attempt that needed more bytes */
	/*
	 * The peer ends each answer with a newline after compact JSON, as SPDK does (learnt from
	 * the answers): then a partial answer is parsed only once a "}\n" arrived, not again at
	 * every doubling, so a large answer costs one parse instead of about two.
	 */
	bool nl_terminated;
	bool by_mark;	   /* the current attempt was started by a "}\n" */
	bool after_answer; /* an answer ended the buffer: a newline may follow in the next read */
	size_t scanned;	   /* bytes of buf already searched for "}\n" */
	unsigned attempts; /* parse attempts, for tests */
};

void rpc_frame_init(struct rpc_frame *f, size_t max);
void rpc_frame_fini(struct rpc_frame *f);

/* Append received bytes. 0 or -ENOMEM. */
int rpc_frame_push(struct rpc_frame *f, const void *data, size_t n);

/*
 * Take the next complete JSON value off the front of the stream.
 * Returns 1 and *out (a new reference), 0 when more bytes are needed, -EBADMSG when the stream
 * is not JSON (or a value is not an object), -EMSGSIZE when a value exceeds the cap. After an
 * error the stream cannot be resynchronised; the caller drops the connection. why gets a reason.
 * A partial answer is re-parsed only after it doubled (so a large answer arriving in
 * many reads costs linear, not quadratic, time) or when idle is true: nothing more arrived for a
 * moment, so what is buffered may be all there is.
 */
int rpc_frame_next(struct rpc_frame *f, bool idle, json_t **out, char *why, size_t why_size);

/* True when part of a value is buffered (a close now means the peer stopped mid-answer). */
bool rpc_frame_partial(const struct rpc_frame *f);

/* ---- calls (rpc_client.c) ---- */

/*
 * As rpc_call_raw, with jansson values. params is borrowed (may be NULL). On success *result is
 * a new reference to the "result" member (json null if SPDK sent null).
 */
int rpc_call_json(struct rpc_client *client, const char *method, json_t *params, int timeout_ms,
		  json_t **result, struct rpc_error *err);

/*
 * Observer of every request a client sends (method, params or NULL), called on the calling
 * thread before the request is written. For tests (schema conformance); one per process.
 */
typedef void (*rpc_capture_fn)(const char *method, const json_t *params, void *arg);
void rpc_capture_set(rpc_capture_fn fn, void *arg);

/* Fill err as a local failure (code 0). Returns e (a negative errno) for tail calls. */
int rpc_error_set(struct rpc_error *err, int e, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Turn one decoded answer object into the caller's outcome: result (new reference) or the
 * mapped SPDK error. Used by the client and the fuzz target.
 */
int rpc_answer_take(json_t *answer, const char *method, json_t **result, struct rpc_error *err);

/* ---- decoding helpers (spdk_decode.c) ---- */

/* Each returns 0, or -EBADMSG with err naming method and field. */
int rpc_dec_str(json_t *obj, const char *key, bool required, char **out, const char *method,
		struct rpc_error *err);
int rpc_dec_str_or_null(json_t *obj, const char *key, char **out, const char *method,
			struct rpc_error *err);
int rpc_dec_int(json_t *obj, const char *key, bool required, int64_t *out, const char *method,
		struct rpc_error *err);
int rpc_dec_bool(json_t *obj, const char *key, bool required, bool *out, const char *method,
		 struct rpc_error *err);
int rpc_dec_strv(json_t *arr, const char *what, struct rpc_strv *out, const char *method,
		 struct rpc_error *err);
/* Decodes one entry of a list into elem (a zeroed element of the list's type). */
typedef int (*rpc_dec_entry_fn)(json_t *entry, void *elem, struct rpc_error *err);
/*
 * Decode the JSON array arr (named what in errors) into a new array of elem_size elements, one
 * per entry through fn. *v and *n are set even on failure: they then hold the elements decoded
 * so far, the failing one included (it may own some of its fields), for the list's free
 * function. 0, -EBADMSG or -ENOMEM.
 */
int rpc_dec_list(json_t *arr, const char *what, const char *method, size_t elem_size,
		 rpc_dec_entry_fn fn, void **v, size_t *n, struct rpc_error *err);
/* Check the type of a result: fails with -EBADMSG naming method and what. */
int rpc_dec_expect(json_t *v, json_type type, const char *what, const char *method,
		   struct rpc_error *err);

/*
 * Builders for optional parameters: unset values (NULL, RPC_UNSET, RPC_TRI_UNSET) are left out.
 * A string that is not valid UTF-8 cannot be sent: rpc_par_str marks the object under
 * RPC_PAR_INVALID (naming the key), and rpc_call_json then fails the call with -EINVAL instead
 * of sending it without that parameter.
 */
#define RPC_PAR_INVALID "\x01invalid utf-8"
void rpc_par_str(json_t *obj, const char *key, const char *v);
/* An object of string parameters: key, value pairs up to a NULL key (values may be NULL). */
json_t *rpc_par_strs(const char *key, const char *v, ...);
void rpc_par_int(json_t *obj, const char *key, int64_t v);
void rpc_par_tri(json_t *obj, const char *key, int8_t v);

/* Call with a typed result check: the result must be JSON true. */
int rpc_call_true(struct rpc_client *client, const char *method, json_t *params,
		  struct rpc_error *err);

/*
 * The typed decoders, one per answer shape, separate from the calls so that tests and the fuzz
 * target can feed them answers. Each takes the "result" value (borrowed).
 */
int rpc_decode_version(json_t *res, struct rpc_version *out, struct rpc_error *err);
int rpc_decode_subsystems(json_t *res, struct rpc_subsystem_list *out, struct rpc_error *err);
int rpc_decode_nvme_controllers(json_t *res, struct rpc_nvme_ctrlr_list *out,
				struct rpc_error *err);
int rpc_decode_io_paths(json_t *res, struct rpc_io_path_list *out, struct rpc_error *err);
int rpc_decode_raid_bdevs(json_t *res, struct rpc_raid_list *out, struct rpc_error *err);
int rpc_decode_bdevs(json_t *res, struct rpc_bdev_list *out, struct rpc_error *err);
int rpc_decode_iostat(json_t *res, struct rpc_iostat *out, struct rpc_error *err);
int rpc_decode_vhost_controllers(json_t *res, struct rpc_vhost_list *out, struct rpc_error *err);
int rpc_decode_keys(json_t *res, struct rpc_key_list *out, struct rpc_error *err);
int rpc_decode_strv(json_t *res, const char *method, struct rpc_strv *out, struct rpc_error *err);

#endif
