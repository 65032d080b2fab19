/* Command handlers, one group per file; the table is in main.c. */
#ifndef PLEIN_CLI_COMMANDS_H
#define PLEIN_CLI_COMMANDS_H

#include "cli.h"

/* cmd_site.c: sites and integrity */
int cmd_init(cli_ctx *ctx);
int cmd_status(cli_ctx *ctx);
int cmd_digest(cli_ctx *ctx);

/* cmd_network.c: identity, the network card, the roster */
int cmd_id(cli_ctx *ctx);
int cmd_card(cli_ctx *ctx);
int cmd_init_card(cli_ctx *ctx, const char *dir, const char *file);
int cmd_admit(cli_ctx *ctx);
int cmd_revoke(cli_ctx *ctx);
int cmd_sites(cli_ctx *ctx);

/* cmd_offer.c: the offer */
int cmd_location_add(cli_ctx *ctx);
int cmd_location_list(cli_ctx *ctx);
int cmd_partner_add(cli_ctx *ctx);
int cmd_partner_list(cli_ctx *ctx);
int cmd_term_list(cli_ctx *ctx);
int cmd_offering_add(cli_ctx *ctx);
int cmd_offering_list(cli_ctx *ctx);

/* cmd_schedule.c: rules, exceptions and the expanded schedule */
int cmd_rule_add(cli_ctx *ctx);
int cmd_rule_cancel(cli_ctx *ctx);
int cmd_rule_move(cli_ctx *ctx);
int cmd_schedule(cli_ctx *ctx);

/* cmd_pages.c: the board and the folder as HTML */
int cmd_board(cli_ctx *ctx);
int cmd_folder(cli_ctx *ctx);

/* cmd_signup.c */
int cmd_signup_add(cli_ctx *ctx);
int cmd_signup_list(cli_ctx *ctx);
int cmd_signup_set(cli_ctx *ctx);

/* cmd_visit.c: anonymous registration */
int cmd_visit_add(cli_ctx *ctx);
int cmd_visit_list(cli_ctx *ctx);

/* cmd_referral.c */
int cmd_referral_add(cli_ctx *ctx);
int cmd_referral_set(cli_ctx *ctx);
int cmd_referral_attempt(cli_ctx *ctx);
int cmd_referral_list(cli_ctx *ctx);
int cmd_referral_show(cli_ctx *ctx);

/* cmd_daylog.c */
int cmd_daylog_add(cli_ctx *ctx);
int cmd_daylog_list(cli_ctx *ctx);

/* cmd_report.c */
int cmd_report(cli_ctx *ctx);

/* cmd_sync.c: peers, sync, verify */
int cmd_peer_add(cli_ctx *ctx);
int cmd_peer_list(cli_ctx *ctx);
int cmd_peer_remove(cli_ctx *ctx);
int cmd_sync(cli_ctx *ctx);
int cmd_verify(cli_ctx *ctx);

/* cmd_forget.c */
int cmd_forget(cli_ctx *ctx);
/* cmd_serve.c: the daemon */
int cmd_serve(cli_ctx *ctx);

/* cmd_conflicts.c */
int cmd_conflicts(cli_ctx *ctx);

#endif
