/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Framing of SPDK's answer stream: SPDK writes JSON objects back to back with no delimiter, so
 * the only way to find where one ends is to parse it. jansson's json_loadb with
 * JSON_DISABLE_EOF_CHECK parses the first value of a buffer and reports where it ended.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_internal.h"

/*
 * jansson reports a value cut off by the end of the buffer as "premature end of input" in most
 * places, but as an invalid token / escape / UTF-8 sequence when the cut falls inside a literal
 * ("tru"), a \u escape or a multi-byte character. Those tokens are at most this long, so an
 * error this close to the end of the buffer means "wait for more bytes".
 */
#define FRAME_TAIL_SLACK 12

/* Below this size a re-parse is cheap enough to do whenever the socket goes idle. */
#define FRAME_SMALL (256u * 1024)

void rpc_frame_init(struct rpc_frame *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max ? max : RPC_DEFAULT_MAX_ANSWER;
}

void rpc_frame_fini(struct rpc_frame *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

int rpc_frame_push(struct rpc_frame *f, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		char *nb;

		while (cap < f->len + n)
			cap *= 2;
		nb = realloc(f->buf, cap);
		if (!nb)
			return -ENOMEM;
		f->buf = nb;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return 0;
}

static size_t frame_skip_ws(const struct rpc_frame *f)
{
	size_t i = 0;

	while (i < f->len &&
	       (f->buf[i] == ' ' || f->buf[i] == '\t' || f->buf[i] == '\n' || f->buf[i] == '\r'))
		i++;
	return i;
}

static void frame_consume(struct rpc_frame *f, size_t n)
{
	memmove(f->buf, f->buf + n, f->len - n);
	f->len -= n;
	f->tried_len = 0;
	f->scanned = 0;
}

/* A "}\n" arrived since the last look: with a newline-terminating peer, an answer may end there. */
static bool frame_new_end_mark(struct rpc_frame *f)
{
	size_t from = f->scanned ? f->scanned - 1 : 0;
	bool found = f->len > from && memmem(f->buf + from, f->len - from, "}\n", 2) != NULL;

	f->scanned = f->len;
	return found;
}

bool rpc_frame_partial(const struct rpc_frame *f)
{
	return frame_skip_ws(f) < f->len;
}

/* Last non-blank byte is '}': the buffered tail may end a complete answer. */
static bool frame_ends_object(const struct rpc_frame *f)
{
	size_t i = f->len;

	while (i > 0 && (f->buf[i - 1] == ' ' || f->buf[i - 1] == '\t' || f->buf[i - 1] == '\n' ||
			 f->buf[i - 1] == '\r'))
		i--;
	return i > 0 && f->buf[i - 1] == '}';
}

/*
 * Whether to run the parser now. Re-parsing a growing partial answer on every read would be
 * quadratic in its size (a 64 MiB saved config arrives in ~1,000 reads), so a partial answer is
 * re-parsed only after it doubled, or when the socket went idle with a buffer that
 * may hold a complete answer.
 */
static bool frame_should_try(struct rpc_frame *f, bool idle)
{
	f->by_mark = false;
	if (f->len > f->max)
		return true;
	if (f->nl_terminated) {
		f->by_mark = frame_new_end_mark(f);
		if (f->by_mark)
			return true;
		/* a peer that stopped ending answers with a newline is still heard, geometrically
		 */
		return idle && frame_ends_object(f) &&
		       (f->len <= FRAME_SMALL || f->len - f->tried_len >= f->tried_len);
	}
	if (f->tried_len == 0)
		return true;
	if (f->len == f->tried_len)
		return false;
	if (f->len - f->tried_len >= f->tried_len)
		return true;
	return idle && (f->len <= FRAME_SMALL || frame_ends_object(f));
}

int rpc_frame_next(struct rpc_frame *f, bool idle, json_t **out, char *why, size_t why_size)
{
	json_error_t jerr;
	size_t start, avail;
	json_t *v;

	start = frame_skip_ws(f);
	/* the newline came apart from the answer it ends */
	if (start > 0 && f->after_answer && f->buf[0] == '\n')
		f->nl_terminated = true;
	if (start > 0 || f->len > 0)
		f->after_answer = false;
	if (start > 0)
		frame_consume(f, start);
	if (f->len == 0)
		return 0;
	if (f->buf[0] != '{') {
		snprintf(why, why_size, "answer is not a JSON object (starts with byte 0x%02x)",
			 (unsigned char)f->buf[0]);
		return -EBADMSG;
	}
	if (!frame_should_try(f, idle))
		return 0;
	avail = f->len;

	f->attempts++;
	v = json_loadb(f->buf, avail, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!v) {
		bool cut = json_error_code(&jerr) == json_error_premature_end_of_input ||
			   (size_t)jerr.position + FRAME_TAIL_SLACK >= avail;

		/* a "}\n" inside an answer (pretty-printed): back to doubling, never quadratic */
		if (cut && f->by_mark)
			f->nl_terminated = false;
		if (!cut) {
			snprintf(why, why_size, "answer is not valid JSON: %s at byte %d",
				 jerr.text, jerr.position);
			return -EBADMSG;
		}
		if (avail > f->max) {
			snprintf(why, why_size, "answer larger than the limit of %zu bytes",
				 f->max);
			return -EMSGSIZE;
		}
		f->tried_len = avail;
		return 0;
	}
	if ((size_t)jerr.position > f->max) {
		json_decref(v);
		snprintf(why, why_size, "answer of %d bytes is larger than the limit of %zu bytes",
			 jerr.position, f->max);
		return -EMSGSIZE;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(why, why_size, "answer is not a JSON object");
		return -EBADMSG;
	}
	if ((size_t)jerr.position < f->len && f->buf[jerr.position] == '\n')
		f->nl_terminated = true;
	f->after_answer = (size_t)jerr.position == f->len;
	frame_consume(f, (size_t)jerr.position);
	*out = v;
	return 1;
}
