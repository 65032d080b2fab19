/* Not built yet: each command fails loudly until it is. */
#include "commands.h"

int cmd_visit_add(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_visit_list(cli_ctx *ctx) { return cmd_not_built(ctx); }
