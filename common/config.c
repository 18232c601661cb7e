/* SPDX-License-Identifier: BSD-2-Clause */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* "value   # why": a '#' after a space or tab starts a comment; one inside a word does not. */
static void cut_comment(char *value)
{
	for (char *p = value; *p; p++)
		if (*p == '#' && p > value && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

/* "[name]": sets *in_section; returns false if the line is not a header. */
static bool parse_section(char *line, const char *section, bool *in_section, bool *bad)
{
	size_t n = strlen(line);

	if (line[0] != '[')
		return false;
	if (n < 3 || line[n - 1] != ']') {
		*bad = true;
		return true;
	}
	line[n - 1] = '\0';
	*in_section = strcmp(trim(line + 1), section) == 0;
	return true;
}

static int parse_line(char *line, const char *section, bool *in_section, wl_config_cb cb,
		      void *userdata, char *err, size_t errlen)
{
	bool bad = false;
	char *eq, *key, *value;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
		return 0;
	if (parse_section(line, section, in_section, &bad)) {
		if (bad)
			snprintf(err, errlen, "bad section header (want [name])");
		return bad ? -EINVAL : 0;
	}
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	value = eq + 1;
	cut_comment(value);
	value = trim(value);
	if (key[0] == '\0') {
		snprintf(err, errlen, "missing key before '='");
		return -EINVAL;
	}
	return *in_section ? cb(key, value, userdata, err, errlen) : 0;
}

int wl_config_load(const char *path, const char *section, wl_config_cb cb, void *userdata,
		   char *err, size_t errlen)
{
	char line[WL_CONFIG_LINE_MAX + 2];
	char why[256] = "";
	bool in_section = false;
	unsigned lineno = 0;
	int r = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "line longer than %d bytes", WL_CONFIG_LINE_MAX);
			r = -E2BIG;
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		r = parse_line(line, section, &in_section, cb, userdata, why, sizeof(why));
		if (r < 0)
			break;
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		snprintf(why, sizeof(why), "read error");
	}
	fclose(f);
	if (r < 0)
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	return r;
}
