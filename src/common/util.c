/* SPDX-License-Identifier: Apache-2.0 */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static struct util_clock clock_hooks;

void util_clock_override(const struct util_clock *c)
{
	clock_hooks = c ? *c : (struct util_clock){0};
}

uint64_t util_now_ms(void)
{
	struct timespec ts;

	if (clock_hooks.mono_ms)
		return clock_hooks.mono_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t util_wall_s(void)
{
	if (clock_hooks.wall_s)
		return clock_hooks.wall_s();
	return (int64_t)time(NULL);
}

char *util_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

int util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return -ENAMETOOLONG;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int util_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int util_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{"", 1},
		{"B", 1},
		{"K", 1ull << 10},
		{"KiB", 1ull << 10},
		{"KB", 1000ull},
		{"M", 1ull << 20},
		{"MiB", 1ull << 20},
		{"MB", 1000000ull},
		{"G", 1ull << 30},
		{"GiB", 1ull << 30},
		{"GB", 1000000000ull},
		{"T", 1ull << 40},
		{"TiB", 1ull << 40},
		{"TB", 1000000000000ull},
		{"P", 1ull << 50},
		{"PiB", 1ull << 50},
		{"PB", 1000000000000000ull},
	};
	const char *p = s;
	char numbuf[32];
	size_t n;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	while (*p >= '0' && *p <= '9')
		p++;
	n = (size_t)(p - s);
	if (n == 0 || n >= sizeof(numbuf))
		return n == 0 ? -EINVAL : -ERANGE;
	memcpy(numbuf, s, n);
	numbuf[n] = '\0';
	r = util_parse_u64(numbuf, UINT64_MAX, &v);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(p, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -ERANGE;
		*out = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

int util_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[PATH_MAX];
	char dirbuf[PATH_MAX];
	const char *p = data;
	int fd, dfd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/*
	 * A fresh file of our own: never through a link somebody left at that name, never one
	 * already open elsewhere. A leftover of a crashed writer (same pid after a reboot) goes.
	 */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* the mode asked for, whatever the umask */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	/* The rename is durable only once the directory entry is. */
	util_strlcpy(dirbuf, path, sizeof(dirbuf));
	dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0 && errno != EINVAL) {
		/* EINVAL: the file system cannot sync directories; nothing more to do there */
		r = -errno;
		close(dfd);
		return r;
	}
	close(dfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int util_read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				r = -EIO;
			break;
		}
	}
	if (r == 0) {
		buf[n] = '\0';
		*out = buf;
		buf = NULL;
		if (len)
			*len = n;
	}
out:
	free(buf);
	fclose(f);
	return r;
}

void util_sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool util_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char c = *p++;
		unsigned char lo = 0x80, hi = 0xbf;
		int n;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false; /* continuation byte, overlong lead, or beyond U+10FFFF */
		/* the second byte's range rules out overlongs, surrogates and > U+10FFFF */
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (*p < lo || *p > hi)
			return false;
		p++;
		for (int i = 1; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}
