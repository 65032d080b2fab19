#!/usr/bin/python3
"""Expand an iCalendar feed into occurrences, as a calendar app would.

usage: ics_occurrences.py FEED.ics FROM TO     (dates YYYY-MM-DD, inclusive)

Parses FEED with python3-icalendar, builds each time zone from the feed's
own VTIMEZONE (dateutil.tz.tzical), expands RRULEs with dateutil.rrule,
drops EXDATEs and applies RECURRENCE-ID overrides. Prints one line per
occurrence whose local date is in [FROM, TO], sorted:
  date start end start_utc end_utc | SUMMARY | LOCATION
It also checks the feed's form (CRLF, lines of at most 75 octets) and
exits 1 with a message on any problem.
"""
import datetime as dt
import io
import sys

import icalendar
from dateutil import rrule, tz

UTC = dt.timezone.utc


def fail(msg):
    print("ics_occurrences: " + msg, file=sys.stderr)
    sys.exit(1)


def check_form(raw):
    if not raw.endswith(b"\r\n"):
        fail("the feed does not end in CRLF")
    for n, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        if b"\n" in line or b"\r" in line:
            fail("line %d has a bare CR or LF" % n)
        if len(line) > 75:
            fail("line %d is %d octets long" % (n, len(line)))
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fail("line %d is folded inside a UTF-8 character" % n)


def wall(value):
    """A DTSTART/EXDATE/RECURRENCE-ID value as naive local wall time."""
    return value.replace(tzinfo=None)


def main():
    if len(sys.argv) != 4:
        fail("usage: ics_occurrences.py FEED.ics FROM TO")
    raw = open(sys.argv[1], "rb").read()
    check_form(raw)
    first = dt.date.fromisoformat(sys.argv[2])
    last = dt.date.fromisoformat(sys.argv[3])
    cal = icalendar.Calendar.from_ical(raw)
    zones = tz.tzical(io.StringIO(raw.decode("utf-8")))
    if not zones.keys():
        fail("the feed has no VTIMEZONE")

    def zone_of(prop):
        name = prop.params.get("TZID")
        if name not in zones.keys():
            fail("TZID %s has no VTIMEZONE in the feed" % name)
        return zones.get(name)

    masters, overrides = [], {}
    for ev in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in ev:
            key = (str(ev["UID"]), wall(ev["RECURRENCE-ID"].dt))
            overrides[key] = ev
        else:
            masters.append(ev)
    out = []

    def emit(ev, start=None):
        zone = zone_of(ev["DTSTART"])
        if start is None:
            start = wall(ev["DTSTART"].dt).replace(tzinfo=zone)
        su = start.astimezone(UTC)
        eu = su + ev["DURATION"].dt
        end = eu.astimezone(zone)
        if not first <= start.date() <= last:
            return
        out.append("%s %s %s %s %s | %s | %s" % (
            start.date().isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M"),
            su.strftime("%Y-%m-%dT%H:%M:%SZ"), eu.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ev.get("SUMMARY", ""), ev.get("LOCATION", "")))

    seen = set()
    for ev in masters:
        uid = str(ev["UID"])
        if uid in seen:
            fail("UID %s is used by two events" % uid)
        seen.add(uid)
        if "RRULE" not in ev:
            emit(ev)
            continue
        zone = zone_of(ev["DTSTART"])
        start = wall(ev["DTSTART"].dt).replace(tzinfo=zone)
        rule = rrule.rrulestr(ev["RRULE"].to_ical().decode(), dtstart=start)
        exdates = set()
        ex = ev.get("EXDATE")
        for lst in (ex if isinstance(ex, list) else [ex] if ex else []):
            for d in lst.dts:
                exdates.add(wall(d.dt))
        # Two weeks of margin: a moved date may land outside the range.
        lo = dt.datetime.combine(first - dt.timedelta(days=14), dt.time(), zone)
        hi = dt.datetime.combine(last + dt.timedelta(days=15), dt.time(), zone)
        for inst in rule.between(lo, hi, inc=True):
            key = inst.replace(tzinfo=None)
            if key in exdates:
                continue
            over = overrides.pop((uid, key), None)
            if over is not None:
                emit(over)
            else:
                emit(ev, inst)
    for (uid, key), ev in overrides.items():
        if uid in seen:
            fail("override %s %s names no occurrence of its event" % (uid, key))
    for line in sorted(out, key=lambda l: (l.split()[3], l)):
        print(line)


main()
