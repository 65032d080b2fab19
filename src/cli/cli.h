/* The plein command line: one table of commands (main.c) drives dispatch,
 * help and option parsing, so they never drift apart. */
#ifndef PLEIN_CLI_H
#define PLEIN_CLI_H

#include <sqlite3.h>
#include <stdio.h>

#include "plein/site.h"

typedef struct cli_args cli_args;

typedef struct cli_ctx {
	const char *dir;        /* -C DIR, $PLEIN_DIR, or "." */
	const struct cli_command *cmd;
	cli_args *args;         /* parsed options of this command */
	plein_site *site;       /* opened by cli_site() */
} cli_ctx;

typedef int (*cli_handler)(cli_ctx *ctx);

struct cli_command {
	const char *name;    /* "location add" */
	cli_handler run;
	const char *usage;   /* options after the name; parsed for the option spec */
	const char *summary; /* one line for 'plein help' */
};

extern const struct cli_command cli_commands[];

/* Open the site (once); returns it lent, or NULL with the error set. */
plein_site *cli_site(cli_ctx *ctx);

/* --- options (args.c) ---------------------------------------------- */
/* Parse argv against the options named in usage. --help prints usage and
 * returns 1; bad options fail with PLEIN_EINVAL. */
int cli_parse(cli_args **out, const struct cli_command *cmd, int argc, char **argv);
void cli_args_free(cli_args *a);
const char *cli_opt(cli_ctx *ctx, const char *name);        /* last value or NULL */
int cli_flag(cli_ctx *ctx, const char *name);               /* given at all */
int cli_opt_all(cli_ctx *ctx, const char *name, const char ***vals); /* every value */
int cli_npos(cli_ctx *ctx);
const char *cli_pos(cli_ctx *ctx, int i);
/* Require exactly n positional arguments (names for the message). */
int cli_need_pos(cli_ctx *ctx, int min, int max);
/* Require an option; fails with a message naming it. */
int cli_need(cli_ctx *ctx, const char *name, const char **out);
/* Parse an integer option into *out (unchanged if absent). */
int cli_opt_int(cli_ctx *ctx, const char *name, long lo, long hi, long *out);

/* --- output (out.c) ------------------------------------------------- */
/* Print every row of st: a JSON array of objects (--json) or an aligned
 * table with the column names as headers. Steps st to the end. */
int cli_print_rows(cli_ctx *ctx, sqlite3_stmt *st);
/* Print one row as JSON object (--json) or "key: value" lines. */
int cli_print_record(cli_ctx *ctx, sqlite3_stmt *st);
/* Print a new record's id alone on stdout. */
void cli_print_id(const char *id);
int cli_json(cli_ctx *ctx);
/* Is stdout a terminal (progress is shown only there)? */
int cli_tty(void);

#endif
