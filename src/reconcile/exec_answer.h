/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_EXEC_ANSWER_H
#define DISKENGINE_RECONCILE_EXEC_ANSWER_H

/*
 * What an SPDK error answer means for the executor. SPDK's codes for the same mistake differ
 * between methods (vhost_* wraps every errno as -32602 with only the strerror text), so the
 * classification keys on method and code, and reads the message only where the code alone is
 * that generic.
 */

/* Meaning of one error answer. */
enum exec_answer {
	EXEC_ANSWER_FAILED = 0,	   /* a real failure: retry later with backoff */
	EXEC_ANSWER_EXISTS = 1,	   /* the object exists already: look, and check that it is ours */
	EXEC_ANSWER_GONE = 2,	   /* a delete found nothing to delete: success */
	EXEC_ANSWER_CONFLICT = 3,  /* another object holds the name or path: report it */
	EXEC_ANSWER_TRANSIENT = 4, /* busy or path down: retry later, the ask is fine */
};

/* Classify SPDK's error (code, message) for method. */
enum exec_answer exec_answer_classify(const char *method, int code, const char *message);

/*
 * What a failure most likely means when SPDK's text alone does not say, for the operator; NULL
 * when the answer speaks for itself.
 */
const char *exec_answer_hint(const char *method, int code, const char *message);

/* "failed", "exists", "gone", "conflict", "transient". */
const char *exec_answer_name(enum exec_answer a);

#endif
