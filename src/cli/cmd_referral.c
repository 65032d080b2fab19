/* Not built yet: each command fails loudly until it is. */
#include "commands.h"

int cmd_referral_add(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_referral_set(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_referral_attempt(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_referral_list(cli_ctx *ctx) { return cmd_not_built(ctx); }
int cmd_referral_show(cli_ctx *ctx) { return cmd_not_built(ctx); }
