/* Network and sync commands. Until they are built they fail loudly. */
#include "commands.h"
#include "plein/error.h"

int cmd_not_built(cli_ctx *ctx)
{
	return plein_fail(PLEIN_ERR, "'plein %s' is not built yet in this version of plein", ctx->cmd->name);
}
