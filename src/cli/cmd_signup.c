/* Not built yet: each command fails loudly until it is. */
#include "commands.h"

int cmd_signup_add(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_signup_list(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_signup_set(cli_ctx *ctx) { return cmd_not_built(ctx); }
