-- plein schema version 1: the Ontwikkelplein's records and the sync metadata.
--
-- This file is a contract for other programs too (design §3). Rules that
-- follow from syncing:
-- * every synced table has `id TEXT PRIMARY KEY`: a globally unique text id
--   made at the writing site (plein makes time-ordered ULIDs; any fresh
--   unique text is accepted from other writers);
-- * no NOT NULL beyond the id and no cross-column CHECKs: a merged row may
--   arrive column by column, and each value was valid where it was written;
-- * foreign keys document intent only (PRAGMA foreign_keys is off): a row
--   may arrive before the row it points to.
-- Times: `at`, `created_at`, `closed_at` are ISO 8601 UTC ("2026-11-24T13:05:00Z");
-- dates YYYY-MM-DD; local times HH:MM in the location's time zone.

---------------------------------------------------------------------------
-- The offer and the schedule
---------------------------------------------------------------------------

CREATE TABLE location (
  id       TEXT PRIMARY KEY,  -- globally unique id
  name     TEXT,              -- shown to people: "Bibliotheek Hengelo Centrum"
  kind     TEXT CHECK (kind IN ('branch','community','mobile','partner')),
  address  TEXT,              -- street and town, free text
  tz       TEXT DEFAULT 'Europe/Amsterdam'  -- IANA time zone of local times here
) WITHOUT ROWID;

CREATE TABLE partner (
  id              TEXT PRIMARY KEY,
  name            TEXT,       -- "Juridisch Loket"
  kind            TEXT,       -- free classification: juridisch, schuldhulp, taal, ...
  website         TEXT,
  phone           TEXT,       -- the organisation's number, never a visitor's
  email           TEXT,       -- the organisation's address
  reachable       TEXT,       -- when they can be reached: "ma-vr 9-12"
  referral_method TEXT CHECK (referral_method IN ('call','mail','card','walk_in')),
  max_attempts    INTEGER,    -- how often staff may try to reach a visitor
  site_id         TEXT        -- the partner's own plein site, if it runs one
) WITHOUT ROWID;

CREATE TABLE term (
  id        TEXT PRIMARY KEY, -- seeded terms use "scheme:code"
  scheme    TEXT CHECK (scheme IN ('theme','question','agency')),
  code      TEXT,             -- stable code used by the CLI and reports: "werk"
  label     TEXT,             -- Dutch label shown to people: "Werk"
  parent_id TEXT REFERENCES term(id)  -- broader term, if any
) WITHOUT ROWID;

CREATE TABLE offering (
  id              TEXT PRIMARY KEY,
  partner_id      TEXT REFERENCES partner(id), -- who offers it
  theme           TEXT,       -- term code of scheme 'theme'
  kind            TEXT CHECK (kind IN ('spreekuur','workshop','training','voorlichting','oefengroep','activiteit')),
  title           TEXT,       -- "Spreekuur belastingaangifte"
  description     TEXT,
  capacity        INTEGER,    -- places per occurrence; NULL = no limit
  signup_required INTEGER CHECK (signup_required IN (0,1))  -- 1: visitors sign up
) WITHOUT ROWID;

CREATE TABLE schedule_rule (
  id          TEXT PRIMARY KEY,
  offering_id TEXT REFERENCES offering(id),
  location_id TEXT REFERENCES location(id),
  room        TEXT,           -- "leeshoek", "studieruimte 2"
  rrule       TEXT,           -- RFC 5545 subset: FREQ=WEEKLY|MONTHLY;INTERVAL;BYDAY;UNTIL;COUNT
  starts_at   TEXT,           -- local start time HH:MM
  ends_at     TEXT,           -- local end time HH:MM
  valid_from  TEXT,           -- first date the rule applies (DTSTART date)
  valid_to    TEXT            -- last date it may apply, inclusive; NULL = open
) WITHOUT ROWID;

CREATE TABLE schedule_exception (
  id              TEXT PRIMARY KEY,
  rule_id         TEXT REFERENCES schedule_rule(id),
  original_date   TEXT,       -- the occurrence's date as the rule gives it
  action          TEXT CHECK (action IN ('cancel','move')),
  new_start       TEXT,       -- move: local date-time "YYYY-MM-DD HH:MM"
  new_end         TEXT,       -- move: local date-time "YYYY-MM-DD HH:MM"
  new_location_id TEXT REFERENCES location(id), -- move: elsewhere; NULL = same place
  reason          TEXT        -- shown to people: "Kerstvakantie"
) WITHOUT ROWID;

CREATE TABLE signup (
  id              TEXT PRIMARY KEY,
  rule_id         TEXT REFERENCES schedule_rule(id),
  occurrence_date TEXT,       -- the occurrence's original date: rule + date names it
  status          TEXT CHECK (status IN ('booked','waitlisted','cancelled','attended','no_show')),
  who             BLOB,       -- the participant's name, sealed (see docs/sealed.md)
  created_at      TEXT        -- when the sign-up was made (UTC)
) WITHOUT ROWID;

---------------------------------------------------------------------------
-- Registration (anonymous), referrals, day log
---------------------------------------------------------------------------

CREATE TABLE visit (
  id          TEXT PRIMARY KEY,
  location_id TEXT REFERENCES location(id),
  at          TEXT,           -- when the visit began (UTC)
  daypart     TEXT CHECK (daypart IN ('ochtend','middag','avond')),  -- local day-part
  channel     TEXT CHECK (channel IN ('walk_in','appointment','phone'))
) WITHOUT ROWID;

CREATE TABLE question (
  id          TEXT PRIMARY KEY,
  visit_id    TEXT REFERENCES visit(id),
  theme       TEXT,           -- term code, scheme 'theme'
  kind        TEXT,           -- term code, scheme 'question'; NULL = not recorded
  agency      TEXT,           -- term code, scheme 'agency' (IDO registration)
  partner_id  TEXT REFERENCES partner(id), -- who handled it, if a partner did
  solved      INTEGER CHECK (solved IN (0,1)),
  referral_id TEXT REFERENCES referral(id), -- the referral it led to, if any
  minutes     INTEGER CHECK (minutes IN (5,15,30,60,120)) -- duration bucket, upper bound
) WITHOUT ROWID;

CREATE TABLE referral (
  id             TEXT PRIMARY KEY,
  question_id    TEXT REFERENCES question(id),
  from_site      TEXT,        -- site id of the referring site
  to_partner_id  TEXT REFERENCES partner(id),
  to_offering_id TEXT REFERENCES offering(id),
  theme          TEXT,        -- term code, scheme 'theme'
  status         TEXT CHECK (status IN ('new','contacted','appointment','done','declined','unreachable')),
  outcome        TEXT,        -- short result, no personal data
  attempts       INTEGER,     -- contact attempts, added up across sites
  follow_up_on   TEXT,        -- date to look at it again
  contact        BLOB,        -- visitor's name/phone/email/note, sealed (docs/sealed.md)
  created_at     TEXT,
  closed_at      TEXT
) WITHOUT ROWID;

CREATE TABLE daylog (
  id          TEXT PRIMARY KEY,
  location_id TEXT REFERENCES location(id),
  day         TEXT,           -- the day it is about
  author      TEXT,           -- staff member or partner, no visitor names
  text        TEXT
) WITHOUT ROWID;

CREATE INDEX question_visit ON question(visit_id);
CREATE INDEX rule_offering ON schedule_rule(offering_id);
CREATE INDEX exception_rule ON schedule_exception(rule_id, original_date);
CREATE INDEX signup_occurrence ON signup(rule_id, occurrence_date);
CREATE INDEX visit_at ON visit(at);

---------------------------------------------------------------------------
-- Sync metadata: the sync core knows the synced tables only through these
-- rows (design §0). tid and cid are stable numbers used on the wire and in
-- capture bitmasks: never renumber them, only add.
---------------------------------------------------------------------------

CREATE TABLE plein_sync_table (
  name TEXT PRIMARY KEY,          -- a synced table
  tid  INTEGER NOT NULL UNIQUE    -- its stable number
);

CREATE TABLE plein_sync_column (
  tbl      TEXT NOT NULL REFERENCES plein_sync_table(name),
  name     TEXT NOT NULL,         -- a synced column (every column but id)
  cid      INTEGER NOT NULL CHECK (cid BETWEEN 0 AND 61), -- stable number within tbl
  policy   TEXT NOT NULL DEFAULT 'lww' CHECK (policy IN ('lww','max','counter')),
  personal INTEGER NOT NULL DEFAULT 0, -- 1: sealed personal data, purgeable (design §8)
  PRIMARY KEY (tbl, name),
  UNIQUE (tbl, cid)
);

-- The order of values for the 'max' policy; equal ranks merge last-writer-wins.
CREATE TABLE plein_rank (
  tbl   TEXT NOT NULL,
  col   TEXT NOT NULL,
  value TEXT NOT NULL,
  rank  INTEGER NOT NULL,
  PRIMARY KEY (tbl, col, value)
);

INSERT INTO plein_sync_table(name, tid) VALUES
  ('location', 1), ('partner', 2), ('term', 3), ('offering', 4),
  ('schedule_rule', 5), ('schedule_exception', 6), ('signup', 7),
  ('visit', 8), ('question', 9), ('referral', 10), ('daylog', 11);

-- Every column but id, numbered in declaration order.
INSERT INTO plein_sync_column(tbl, name, cid)
  SELECT t.name, c.name, c.cid - 1
  FROM plein_sync_table t, pragma_table_info(t.name) c
  WHERE c.name <> 'id';

UPDATE plein_sync_column SET policy = 'max' WHERE tbl = 'referral' AND name = 'status';
UPDATE plein_sync_column SET policy = 'counter' WHERE tbl = 'referral' AND name = 'attempts';
UPDATE plein_sync_column SET personal = 1
  WHERE (tbl = 'referral' AND name = 'contact') OR (tbl = 'signup' AND name = 'who');

-- A referral's status never goes back from an end state (domain.md).
INSERT INTO plein_rank(tbl, col, value, rank) VALUES
  ('referral', 'status', 'new', 0),
  ('referral', 'status', 'contacted', 1),
  ('referral', 'status', 'appointment', 2),
  ('referral', 'status', 'done', 3),
  ('referral', 'status', 'declined', 3),
  ('referral', 'status', 'unreachable', 3);
