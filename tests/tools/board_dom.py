#!/usr/bin/python3
"""Read a board page's rendered DOM (chromium --dump-dom) from stdin and
print what a person sees, one line per entry:
  SECTION HH:MM STATUS TITLE | NOTE
and the header lines 'location: ...', 'date: ...', 'daypart: ...'."""
import sys
from html.parser import HTMLParser


class Board(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.section, self.item, self.lines, self.head = [], None, None, [], {}
        self.field = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "section":
            self.section = cls[0] if cls else "?"
        if tag == "li" and "item" in cls:
            self.item = {"start": a.get("data-start"), "status": a.get("data-status"), "title": "", "note": ""}
        for f in ("title", "note"):
            if f in cls and self.item is not None:
                self.field = f
        for f in ("date", "daypart"):
            if f in cls:
                self.field = f
                self.head[f] = ""
        if tag == "h1":
            self.field = "location"
            self.head["location"] = ""
        if tag not in ("br", "meta", "img"):
            self.stack.append(self.field)

    def handle_endtag(self, tag):
        if tag == "li" and self.item is not None:
            i = self.item
            self.lines.append("%s %s %s %s | %s" % (self.section, i["start"], i["status"], i["title"].strip(),
                                                   i["note"].strip()))
            self.item = None
        if self.stack:
            self.field = self.stack.pop()
            self.field = self.stack[-1] if self.stack else None

    def handle_data(self, data):
        if self.field in ("title", "note") and self.item is not None:
            self.item[self.field] += data
        elif self.field in ("date", "daypart", "location"):
            self.head[self.field] += data


b = Board()
b.feed(sys.stdin.read())
for k in ("location", "date", "daypart"):
    print("%s: %s" % (k, b.head.get(k, "").strip()))
for line in b.lines:
    print(line)
