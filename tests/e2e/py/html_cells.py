"""Reads the text a person sees in one of loadlake's HTML pages, without a browser (Python's
html.parser), for tests that check numbers and units (tests/e2e/micros_reports.rs).

usage: html_cells.py PAGE.html

Prints ONE JSON object:
  tables    {table id: [{"row": {data-* attributes of the <tr>}, "fields": {data-field: text}}]}
  outline   {data-field: text} of the #outline cards
  units     texts of the <span class="unit"> elements, in page order
  captions  texts of the <figcaption> elements
  hints     texts of the <p class="hint"> elements
  headers   {table id: [texts of its <th> elements]}
"""
import json
import sys
from html.parser import HTMLParser


class Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out = {"tables": {}, "outline": {}, "units": [], "captions": [], "hints": [],
                    "headers": {}}
        self.table = None
        self.row = None
        self.in_outline = False
        self.capture = None  # (kind, key) of the text being read
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id") == "outline":
            self.in_outline = True
        elif tag == "section":
            self.in_outline = False
        if tag == "table":
            self.table = a.get("id")
            self.out["tables"].setdefault(self.table, [])
            self.out["headers"].setdefault(self.table, [])
        elif tag == "tr" and self.table:
            row = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
            self.row = {"row": row, "fields": {}} if row else None
            if self.row:
                self.out["tables"][self.table].append(self.row)
        if "data-field" in a and (self.row or self.in_outline):
            self.start(("field", a["data-field"]))
        elif tag == "th" and self.table:
            self.start(("th", None))
        elif tag == "span" and a.get("class") == "unit":
            self.start(("unit", None))
        elif tag == "figcaption":
            self.start(("caption", None))
        elif tag == "p" and a.get("class") == "hint":
            self.start(("hint", None))

    def start(self, what):
        self.capture, self.text = what, ""

    def handle_data(self, data):
        if self.capture:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        if not self.capture or tag not in ("td", "th", "span", "figcaption", "p"):
            return
        kind, key = self.capture
        text = self.text.strip()
        if kind == "field" and self.row:
            self.row["fields"][key] = text
        elif kind == "field":
            self.out["outline"][key] = text
        elif kind == "th":
            self.out["headers"][self.table].append(text)
        elif kind == "unit":
            self.out["units"].append(text)
        elif kind == "caption":
            self.out["captions"].append(text)
        elif kind == "hint":
            self.out["hints"].append(text)
        self.capture = None


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    parser = Cells()
    with open(sys.argv[1], encoding="utf-8") as f:
        parser.feed(f.read())
    print(json.dumps(parser.out))


if __name__ == "__main__":
    main()
