/* Not built yet: each command fails loudly until it is. */
#include "commands.h"

int cmd_rule_add(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_rule_cancel(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_rule_move(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_schedule(cli_ctx *ctx) { return cmd_not_built(ctx); }
