/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "daemon/spdk_conn.h"

/*
 * A fake SPDK: reads two requests, answers the second before the first (SPDK may do that),
 * answers a third with an error split over two writes, ignores a fourth, then closes.
 */
struct fake {
	char path[108];
	int lfd;
	pthread_t th;
};

static json_t *read_one(int fd, char *buf, size_t *len)
{
	for (;;) {
		json_error_t e;
		if (*len) {
			json_t *v = json_loadb(buf, *len, JSON_DISABLE_EOF_CHECK, &e);
			if (v) {
				size_t used = (size_t)e.position;
				memmove(buf, buf + used, *len - used);
				*len -= used;
				return v;
			}
		}
		ssize_t n = read(fd, buf + *len, 4096 - *len);
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	char buf[4096], out[512];
	size_t len = 0;
	int fd = accept(f->lfd, NULL, NULL);
	json_t *a = read_one(fd, buf, &len), *b = read_one(fd, buf, &len);

	snprintf(out, sizeof(out), "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"%s\"}",
		 (long long)json_integer_value(json_object_get(b, "id")),
		 json_string_value(json_object_get(b, "method")));
	send_str(fd, out);
	snprintf(out, sizeof(out), "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"%s\"}\n",
		 (long long)json_integer_value(json_object_get(a, "id")),
		 json_string_value(json_object_get(a, "method")));
	send_str(fd, out);
	json_t *c = read_one(fd, buf, &len);
	snprintf(out, sizeof(out),
		 "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-19,\"message\":\"raid bdev "
		 "raid_9 not found\"}}",
		 (long long)json_integer_value(json_object_get(c, "id")));
	send_str(fd, "  ");
	usleep(20000);
	send_str(fd, out);
	json_t *d = read_one(fd, buf, &len); /* never answered */
	usleep(300000);
	close(fd);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	return NULL;
}

static void fake_start(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(f->path, sizeof(f->path), "/tmp/de-conn-%d.sock", getpid());
	unlink(f->path);
	util_strlcpy(sa.sun_path, f->path, sizeof(sa.sun_path));
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

struct caller {
	struct spdk_conn *c;
	const char *method;
	int rc;
	json_t *result;
};

static void *caller_main(void *arg)
{
	struct caller *k = arg;
	k->rc = spdk_conn_call(k->c, k->method, NULL, 2000, &k->result, NULL);
	return NULL;
}

static void test_out_of_order_error_timeout_and_close(void **state)
{
	struct fake f;
	struct spdk_conn *c;
	struct spdk_conn_error err;
	pthread_t t1, t2;

	fake_start(&f);
	assert_int_equal(spdk_conn_open(f.path, &c), 0);
	struct caller k1 = {.c = c, .method = "first"}, k2 = {.c = c, .method = "second"};
	assert_int_equal(pthread_create(&t1, NULL, caller_main, &k1), 0);
	usleep(20000);
	assert_int_equal(pthread_create(&t2, NULL, caller_main, &k2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	/* each caller got its own answer although they came back in the other order */
	assert_int_equal(k1.rc, 0);
	assert_int_equal(k2.rc, 0);
	assert_string_equal(json_string_value(k1.result), "first");
	assert_string_equal(json_string_value(k2.result), "second");
	json_decref(k1.result);
	json_decref(k2.result);

	assert_int_equal(spdk_conn_call(c, "bdev_raid_delete", json_pack("{s:s}", "name", "raid_9"),
					2000, NULL, &err),
			 -EREMOTEIO);
	assert_int_equal(err.code, -19);
	assert_string_equal(err.message, "raid bdev raid_9 not found");

	assert_int_equal(spdk_conn_call(c, "silent", NULL, 100, NULL, NULL), -ETIMEDOUT);
	assert_false(spdk_conn_closed(c));
	/* the fake closes: noticed without any call in flight, later calls fail at once */
	uint64_t end = util_now_ms() + 2000;
	while (!spdk_conn_closed(c) && util_now_ms() < end)
		util_sleep_ms(10);
	assert_true(spdk_conn_closed(c));
	assert_int_equal(spdk_conn_call(c, "after", NULL, 2000, NULL, NULL), -ECONNRESET);
	assert_int_equal(spdk_conn_calls(c), 4);
	spdk_conn_close(c);
	pthread_join(f.th, NULL);
	close(f.lfd);
	unlink(f.path);
}

static void test_missing_socket(void **state)
{
	struct spdk_conn *c = NULL;

	assert_int_equal(spdk_conn_open("/nonexistent/spdk.sock", &c), -ENOENT);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_order_error_timeout_and_close),
		cmocka_unit_test(test_missing_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
