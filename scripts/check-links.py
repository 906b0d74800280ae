#!/usr/bin/env python3
"""Every link of the built book (docs/book) and of the repository's own Markdown pages.

In the book, a relative link must name a file of the book, and its anchor an id in
that page (mdBook turns `x.md#a` into `x.html#a`); a link that leaves the book fails,
since a served book cannot reach the repository. In README.md, BENCHMARKS.md,
SECURITY.md and scripts/README-local-aws.md, a relative link must name a file of the
repository, and an anchor a heading of that Markdown page (GitHub's slugs). Links to
the web are counted, not fetched. Exit 1 on any broken link.
Usage: scripts/check-links.py ROOT
"""
import html.parser
import re
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(sys.argv[1]).resolve()
BOOK = ROOT / "docs" / "book"
PAGES = ["README.md", "BENCHMARKS.md", "SECURITY.md", "scripts/README-local-aws.md"]


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "img", "link", "script"):
                self.hrefs.append(attrs[key])


def parse(path, cache={}):
    if path not in cache:
        p = Links()
        p.feed(path.read_text(errors="replace"))
        cache[path] = p
    return cache[path]


def slug(heading):
    text = re.sub(r"[`*_\[\]]|\(([^)]*)\)", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def headings(md):
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", md.read_text(), re.M)}


def main():
    broken, web, checked = [], 0, 0
    if not BOOK.is_dir():
        raise SystemExit("check-links: no built book at %s (run mdbook build docs)" % BOOK)
    for page in sorted(BOOK.rglob("*.html")):
        for href in parse(page).hrefs:
            if re.match(r"^[a-z]+:", href) or href.startswith("//"):
                web += href.startswith(("http:", "https:"))
                continue
            checked += 1
            target, _, anchor = href.partition("#")
            path = (page.parent / urllib.parse.unquote(target)).resolve() if target else page
            if BOOK.resolve() not in path.parents and path != BOOK.resolve():
                broken.append("%s: %s leaves the book" % (page.relative_to(ROOT), href))
            elif not path.exists():
                broken.append("%s: %s does not exist" % (page.relative_to(ROOT), href))
            elif anchor and path.suffix == ".html" and anchor not in parse(path).ids:
                broken.append("%s: %s has no anchor #%s" % (page.relative_to(ROOT), target or page.name, anchor))
    link = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
    for name in PAGES:
        md = ROOT / name
        text = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", md.read_text(), flags=re.S))
        for href in link.findall(text):
            if re.match(r"^[a-z]+:", href):
                web += href.startswith(("http:", "https:"))
                continue
            checked += 1
            target, _, anchor = href.partition("#")
            path = (md.parent / target).resolve() if target else md
            if not path.exists():
                broken.append("%s: %s does not exist" % (name, href))
            elif anchor and path.suffix == ".md" and anchor not in headings(path):
                broken.append("%s: %s has no heading #%s" % (name, target or name, anchor))
    for line in broken:
        print("check-links: " + line)
    print("check-links: %d links checked, %d broken; %d web links listed, not fetched" % (checked, len(broken), web))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
