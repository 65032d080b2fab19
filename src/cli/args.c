#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plein/buf.h"
#include "plein/error.h"

/* The option spec is read from the usage text: "--name VALUE" takes a
 * value, "--flag" does not, "--x V ..." may repeat. */
typedef struct {
	char name[40];
	int takes_value;
	int multi;
} opt_spec;

typedef struct {
	const char *name;
	const char *value;
} given;

struct cli_args {
	opt_spec spec[48];
	int nspec;
	given opts[64];
	int nopts;
	char *pos[16];
	int npos;
	const char **vals; /* scratch for cli_opt_all */
};

static int is_value_token(const char *t)
{
	return *t && *t != '-' && *t != '[' && *t != ']' && *t != '|' && strcmp(t, "...") != 0;
}

static void read_spec(cli_args *a, const char *usage)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", usage ? usage : "");
	for (char *p = buf; *p; p++)
		if (*p == '[' || *p == ']' || *p == '(' || *p == ')')
			*p = ' ';
	char *tok[128];
	int n = 0;
	for (char *t = strtok(buf, " \n\t"); t && n < 128; t = strtok(NULL, " \n\t"))
		tok[n++] = t;
	for (int i = 0; i < n; i++) {
		if (strncmp(tok[i], "--", 2) != 0)
			continue;
		opt_spec *s = NULL;
		for (int k = 0; k < a->nspec; k++)
			if (strcmp(a->spec[k].name, tok[i] + 2) == 0)
				s = &a->spec[k];
		if (!s) {
			if (a->nspec == (int)(sizeof a->spec / sizeof *a->spec))
				continue;
			s = &a->spec[a->nspec++];
			snprintf(s->name, sizeof s->name, "%s", tok[i] + 2);
		}
		if (i + 1 < n && is_value_token(tok[i + 1])) {
			s->takes_value = 1;
			if (i + 2 < n && strcmp(tok[i + 2], "...") == 0)
				s->multi = 1;
		}
	}
	/* --json is on every listing and --help on every command. */
}

static const opt_spec *find_spec(const cli_args *a, const char *name, size_t len)
{
	for (int k = 0; k < a->nspec; k++)
		if (strlen(a->spec[k].name) == len && strncmp(a->spec[k].name, name, len) == 0)
			return &a->spec[k];
	return NULL;
}

static void print_usage(const struct cli_command *cmd, FILE *f)
{
	fprintf(f, "usage: plein %s %s\n", cmd->name, cmd->usage ? cmd->usage : "");
	if (cmd->summary)
		fprintf(f, "\n%s\n", cmd->summary);
}

int cli_parse(cli_args **out, const struct cli_command *cmd, int argc, char **argv)
{
	cli_args *a = plein_xcalloc(1, sizeof *a);
	*out = a;
	read_spec(a, cmd->usage);
	int only_pos = 0;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		if (!only_pos && strcmp(arg, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (!only_pos && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
			print_usage(cmd, stdout);
			return 1;
		}
		if (only_pos || strncmp(arg, "--", 2) != 0 || arg[2] == 0) {
			if (a->npos == (int)(sizeof a->pos / sizeof *a->pos))
				return plein_fail(PLEIN_EINVAL, "too many arguments for 'plein %s'", cmd->name);
			a->pos[a->npos++] = arg;
			continue;
		}
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const opt_spec *s = find_spec(a, name, len);
		if (!s)
			return plein_fail(PLEIN_EINVAL, "unknown option --%.*s for 'plein %s' (see 'plein %s --help')",
					  (int)len, name, cmd->name, cmd->name);
		const char *value = NULL;
		if (s->takes_value) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return plein_fail(PLEIN_EINVAL, "option --%s needs a value (see 'plein %s --help')", s->name, cmd->name);
		} else if (eq) {
			return plein_fail(PLEIN_EINVAL, "option --%s takes no value", s->name);
		}
		if (!s->multi)
			for (int k = 0; k < a->nopts; k++)
				if (strcmp(a->opts[k].name, s->name) == 0)
					return plein_fail(PLEIN_EINVAL, "option --%s given twice", s->name);
		if (a->nopts == (int)(sizeof a->opts / sizeof *a->opts))
			return plein_fail(PLEIN_EINVAL, "too many options for 'plein %s'", cmd->name);
		a->opts[a->nopts].name = s->name;
		a->opts[a->nopts].value = value ? value : "";
		a->nopts++;
	}
	return 0;
}

void cli_args_free(cli_args *a)
{
	if (a)
		free(a->vals);
	free(a);
}

const char *cli_opt(cli_ctx *ctx, const char *name)
{
	const cli_args *a = ctx->args;
	for (int k = a->nopts - 1; k >= 0; k--)
		if (strcmp(a->opts[k].name, name) == 0)
			return a->opts[k].value;
	return NULL;
}

int cli_flag(cli_ctx *ctx, const char *name)
{
	return cli_opt(ctx, name) != NULL;
}

int cli_opt_all(cli_ctx *ctx, const char *name, const char ***vals)
{
	cli_args *a = ctx->args;
	free(a->vals);
	a->vals = plein_xcalloc((size_t)a->nopts + 1, sizeof *a->vals);
	int n = 0;
	for (int k = 0; k < a->nopts; k++)
		if (strcmp(a->opts[k].name, name) == 0)
			a->vals[n++] = a->opts[k].value;
	*vals = a->vals;
	return n;
}

int cli_npos(cli_ctx *ctx)
{
	return ctx->args->npos;
}

const char *cli_pos(cli_ctx *ctx, int i)
{
	return i < ctx->args->npos ? ctx->args->pos[i] : NULL;
}

int cli_need_pos(cli_ctx *ctx, int min, int max)
{
	int n = ctx->args->npos;
	if (n < min || n > max)
		return plein_fail(PLEIN_EINVAL, "%s arguments for 'plein %s'; usage: plein %s %s",
				  n < min ? "missing" : "too many", ctx->cmd->name, ctx->cmd->name, ctx->cmd->usage);
	return 0;
}

int cli_need(cli_ctx *ctx, const char *name, const char **out)
{
	*out = cli_opt(ctx, name);
	if (!*out || !**out)
		return plein_fail(PLEIN_EINVAL, "'plein %s' needs --%s (see 'plein %s --help')",
				  ctx->cmd->name, name, ctx->cmd->name);
	return 0;
}

int cli_opt_int(cli_ctx *ctx, const char *name, long lo, long hi, long *out)
{
	const char *v = cli_opt(ctx, name);
	if (!v)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < lo || n > hi)
		return plein_fail(PLEIN_EINVAL, "--%s must be a whole number from %ld to %ld, not '%s'", name, lo, hi, v);
	*out = n;
	return 0;
}
