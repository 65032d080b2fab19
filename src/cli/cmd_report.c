/* Not built yet: each command fails loudly until it is. */
#include "commands.h"

int cmd_report(cli_ctx *ctx) { return cmd_not_built(ctx); }
