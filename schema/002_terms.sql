-- plein schema version 2: the seeded taxonomy (domain.md). Every site seeds
-- the same rows with the same ids ("scheme:code"), so they need no sync;
-- sites may add their own terms, which sync like any row.

INSERT INTO term(id, scheme, code, label) VALUES
  ('theme:werk',        'theme', 'werk',        'Werk'),
  ('theme:geld',        'theme', 'geld',        'Geld'),
  ('theme:taal',        'theme', 'taal',        'Taal'),
  ('theme:digitaal',    'theme', 'digitaal',    'Digitaal'),
  ('theme:overheid',    'theme', 'overheid',    'Overheid'),
  ('theme:gezondheid',  'theme', 'gezondheid',  'Gezondheid'),
  ('theme:wonen',       'theme', 'wonen',       'Wonen'),
  ('theme:juridisch',   'theme', 'juridisch',   'Juridisch'),
  ('theme:opvoeding',   'theme', 'opvoeding',   'Opvoeding'),
  ('theme:zorg',        'theme', 'zorg',        'Zorg'),
  ('theme:inburgering', 'theme', 'inburgering', 'Inburgering'),
  ('theme:vrije_tijd',  'theme', 'vrije_tijd',  'Vrije tijd');

-- The government bodies of the IDO registration (Informatiepunt Digitale Overheid).
INSERT INTO term(id, scheme, code, label) VALUES
  ('agency:belastingdienst', 'agency', 'belastingdienst', 'Belastingdienst'),
  ('agency:toeslagen',       'agency', 'toeslagen',       'Toeslagen'),
  ('agency:digid',           'agency', 'digid',           'DigiD'),
  ('agency:uwv',             'agency', 'uwv',             'UWV'),
  ('agency:svb',             'agency', 'svb',             'SVB'),
  ('agency:duo',             'agency', 'duo',             'DUO'),
  ('agency:cjib',            'agency', 'cjib',            'CJIB'),
  ('agency:cak',             'agency', 'cak',             'CAK'),
  ('agency:cbr',             'agency', 'cbr',             'CBR'),
  ('agency:ciz',             'agency', 'ciz',             'CIZ'),
  ('agency:gemeente',        'agency', 'gemeente',        'Gemeente');

-- Kinds of question, after the IDO registration's "soort vraag".
INSERT INTO term(id, scheme, code, label) VALUES
  ('question:informatie', 'question', 'informatie', 'Informatie of uitleg'),
  ('question:formulier',  'question', 'formulier',  'Hulp bij een formulier'),
  ('question:brief',      'question', 'brief',      'Brief lezen of begrijpen'),
  ('question:inloggen',   'question', 'inloggen',   'Inloggen, DigiD of account'),
  ('question:aanvraag',   'question', 'aanvraag',   'Aanvraag of aanmelding'),
  ('question:betaling',   'question', 'betaling',   'Betaling of regeling'),
  ('question:overig',     'question', 'overig',     'Overig');
