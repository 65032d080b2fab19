-- plein schema version 4: the referral lifecycle's history and the fair
-- order of sign-ups (docs/referral.md, docs/signup.md).
--
-- The triggers and the view below read three of the core's local tables,
-- which exist before any migration runs (src/core/schema.c):
-- * plein_clock.applying is 1 while the merge writes what other sites
--   changed: those writes are not this site's doing, so they make no
--   history here (the other site's own history rows arrive with them);
-- * plein_local holds this site's id ('site_id') and, for the length of one
--   transaction, the staff member making the change ('staff', set by
--   `plein referral set --by NAME`; a sqlite3 user may set it too);
-- * plein_capture and the clock table plein_clk_signup (made by the merge,
--   docs/merge.md "Clock tables") give each sign-up's place in the queue.

---------------------------------------------------------------------------
-- Every status change of a referral (domain.md: who, when, from, to).
---------------------------------------------------------------------------

CREATE TABLE referral_event (
  id          TEXT PRIMARY KEY, -- fresh unique text, made by the trigger below
  referral_id TEXT REFERENCES referral(id),
  at          TEXT,             -- when the change was made here (UTC, ISO 8601, ms)
  site_id     TEXT,             -- the site where it was made
  staff       TEXT,             -- who made it, if given: a staff name, never a visitor's
  from_status TEXT,             -- NULL: the referral was created
  to_status   TEXT
) WITHOUT ROWID;

CREATE INDEX referral_event_referral ON referral_event(referral_id);

INSERT INTO plein_sync_table(name, tid) VALUES ('referral_event', 13);
INSERT INTO plein_sync_column(tbl, name, cid)
  SELECT 'referral_event', c.name, c.cid - 1
  FROM pragma_table_info('referral_event') c
  WHERE c.name <> 'id';

-- A referral made, or its status changed, by anyone writing to this replica
-- (plein, the HTTP API, a sqlite3 shell): one history row. The insert is
-- captured like any write, so it travels to every site.
CREATE TRIGGER referral_history_new AFTER INSERT ON referral
WHEN (SELECT applying FROM plein_clock WHERE id = 1) = 0
BEGIN
  INSERT INTO referral_event(id, referral_id, at, site_id, staff, from_status, to_status)
  VALUES (lower(hex(randomblob(16))), NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
          (SELECT value FROM plein_local WHERE key = 'site_id'),
          (SELECT value FROM plein_local WHERE key = 'staff'),
          NULL, coalesce(NEW.status, 'new'));
END;

CREATE TRIGGER referral_history_status AFTER UPDATE OF status ON referral
WHEN coalesce(NEW.status, 'new') IS NOT coalesce(OLD.status, 'new')
  AND (SELECT applying FROM plein_clock WHERE id = 1) = 0
BEGIN
  INSERT INTO referral_event(id, referral_id, at, site_id, staff, from_status, to_status)
  VALUES (lower(hex(randomblob(16))), NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
          (SELECT value FROM plein_local WHERE key = 'site_id'),
          (SELECT value FROM plein_local WHERE key = 'staff'),
          coalesce(OLD.status, 'new'), coalesce(NEW.status, 'new'));
END;

-- Closing (done, declined, unreachable) stamps closed_at, once.
CREATE TRIGGER referral_closed AFTER UPDATE OF status ON referral
WHEN NEW.status IN ('done', 'declined', 'unreachable') AND NEW.closed_at IS NULL
  AND (SELECT applying FROM plein_clock WHERE id = 1) = 0
BEGIN
  UPDATE referral SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;

CREATE TRIGGER referral_closed_new AFTER INSERT ON referral
WHEN NEW.status IN ('done', 'declined', 'unreachable') AND NEW.closed_at IS NULL
  AND (SELECT applying FROM plein_clock WHERE id = 1) = 0
BEGIN
  UPDATE referral SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;

-- The history is insert-only: a local change or removal is refused (the
-- merge may still write what other sites sent, as for any table).
CREATE TRIGGER referral_event_no_update BEFORE UPDATE ON referral_event
WHEN (SELECT applying FROM plein_clock WHERE id = 1) = 0
BEGIN
  SELECT RAISE(ABORT, 'referral_event is the history of referrals: its rows are never changed');
END;

CREATE TRIGGER referral_event_no_delete BEFORE DELETE ON referral_event
WHEN (SELECT applying FROM plein_clock WHERE id = 1) = 0
BEGIN
  SELECT RAISE(ABORT, 'referral_event is the history of referrals: its rows are never deleted');
END;

---------------------------------------------------------------------------
-- Sign-ups: who has a place and who waits, the same at every site
-- (docs/signup.md). A pure function of the merged state: nothing is
-- written after a merge, so nothing echoes through the network.
--
-- Per occurrence (rule_id, occurrence_date), the sign-ups that are not
-- cancelled queue by the clock of the write of their created_at (the
-- insert, or a re-booking after a cancellation): (HLC, site key, id).
-- A write not sealed yet comes last, in write order: it will be sealed
-- with a clock above every clock this replica holds. The first
-- `capacity` places are taken (NULL capacity: no limit); attended and
-- no_show keep their status and their place in the queue; the others are
-- booked or waitlisted by their place.
--
-- Columns: id, rule_id, occurrence_date; status (the effective one);
-- written (the status as written, e.g. 'booked' at a site that did not
-- know of earlier bookings elsewhere); place (1.. in the queue, NULL when
-- cancelled); position (1.. on the waitlist); capacity; queued_hlc and
-- queued_by (the HLC and the signer's public key of the queueing write;
-- NULL while not sealed).
---------------------------------------------------------------------------

CREATE VIEW signup_place AS
WITH q AS (
  SELECT g.id, g.rule_id, g.occurrence_date, g.status AS written, g.created_at,
         o.capacity, pc.seq AS pending, k.h4 AS hlc, r.pk AS site_pk
  FROM signup g
  -- unsealed writes of created_at (cid 4) of signup (tid 7), grouped once:
  -- a lookup per row would read the whole capture log for every row
  LEFT JOIN (SELECT id, max(seq) AS seq FROM plein_capture WHERE tid = 7 AND (cols >> 4) & 1 GROUP BY id) pc
    ON pc.id = g.id
  LEFT JOIN plein_clk_signup k ON k.id = g.id
  LEFT JOIN plein_site_ref r ON r.n = k.s4
  LEFT JOIN schedule_rule ru ON ru.id = g.rule_id
  LEFT JOIN offering o ON o.id = ru.offering_id
), ranked AS (
  SELECT q.*, coalesce(written, 'booked') <> 'cancelled' AS active,
         row_number() OVER (PARTITION BY rule_id, occurrence_date, coalesce(written, 'booked') <> 'cancelled'
                            ORDER BY pending IS NOT NULL, CASE WHEN pending IS NULL THEN hlc END IS NULL,
                                     CASE WHEN pending IS NULL THEN hlc END, site_pk, pending, id) AS n
  FROM q
), placed AS (
  SELECT id, rule_id, occurrence_date, written, capacity, active, n,
         CASE WHEN NOT active THEN 'cancelled'
              WHEN written IN ('attended', 'no_show') THEN written
              WHEN capacity IS NULL OR n <= capacity THEN 'booked'
              ELSE 'waitlisted' END AS status,
         CASE WHEN pending IS NULL THEN hlc END AS queued_hlc,
         CASE WHEN pending IS NULL THEN site_pk END AS queued_by
  FROM ranked
)
SELECT id, rule_id, occurrence_date, status, written,
       CASE WHEN active THEN n END AS place,
       CASE WHEN status = 'waitlisted' THEN
         row_number() OVER (PARTITION BY rule_id, occurrence_date, status = 'waitlisted' ORDER BY n) END AS position,
       capacity, queued_hlc, queued_by
FROM placed;
