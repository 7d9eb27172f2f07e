#!/usr/bin/env python3
"""Second implementations for the CSS/JQuery and XPath Extractor tests (issue 21).

Reads PAGE_HTML and DOC_XML from crates/runner/tests/common/mod.rs and prints what
html5lib (a WHATWG HTML5 parser, as jsoup and html5ever) + cssselect, and lxml's XPath 1.0
(libxml2), select for the selectors and queries of crates/runner/tests/run_plan_inputs.rs, so
the hand-derived expectations there can be compared with an implementation that shares no
code with the runner. Text is printed whitespace-collapsed only: jsoup's Element.text() rules
(spaces around blocks and <br>) are checked by hand in elements/extractors/css.rs.

Needs: pip install lxml cssselect html5lib
"""
import pathlib
import re

import html5lib
from lxml import etree
from lxml.cssselect import CSSSelector

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMON = (ROOT / "crates/runner/tests/common/mod.rs").read_text()


def constant(name):
    return re.search(rf'pub\(crate\) const {name}: &str = r#"(.*?)"#;', COMMON, re.S).group(1)


page = html5lib.parse(constant("PAGE_HTML"), treebuilder="lxml", namespaceHTMLElements=False)
for css, attr in [
    ("#nav > a.item", "href"),
    ("a.item", None),
    # jsoup compares attribute values ignoring case: the runner reads [name=login] as this.
    ("form[name=Login] input[name=csrf]", "value"),
    ("table.t > tbody > tr:nth-child(2) > td", None),
    ("#blocks", None),
    ("#nav > a:nth-child(1)", "href"),
    ("#nav > a:nth-child(2)", "href"),
    ("#nav > a:nth-child(3)", "href"),
    ("a.nothing", "href"),
]:
    found = CSSSelector(css)(page)
    values = [e.get(attr, "") if attr else " ".join("".join(e.itertext()).split()) for e in found]
    print(f"css {css!r} {attr or 'text'}: {values}")

doc = etree.fromstring(constant("DOC_XML").encode())
# Without namespaces JMeter matches <p:price> as `price`; lxml is namespace-aware, so the
# same elements are asked for by their namespace here.
for query in ["//item/@id", "(//p:price)[2]/text()", "count(//item)", "//nope"]:
    print(f"xpath {query!r}: {doc.xpath(query, namespaces={'p': 'urn:price'})}")
html = etree.fromstring(constant("PAGE_HTML").encode(), etree.HTMLParser())
query = "//form[@name='Login']/input[@name='csrf']/@value"
print(f"xpath (html) {query!r}: {html.xpath(query)}")
