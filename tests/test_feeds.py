"""Telling sources apart by content, and reading feeds and sitemaps."""

from __future__ import annotations

import gzip

import pytest

from index.web.feeds import FEED, HTML, SITEMAP, SITEMAP_INDEX, URL_LIST, NotAListing, gunzip, parse_listing, sniff
from tests.support.website import BROKEN_FEED, NewsSite, atom_feed, rss_feed, sitemap, sitemap_index

BASE = "https://alwaha.example"
SITE = NewsSite.generate(6)


@pytest.mark.parametrize(
    ("content", "ctype", "kind"),
    [
        (rss_feed(SITE, BASE, SITE.pages).encode(), "text/html", FEED),  # a feed served as HTML is still a feed
        (atom_feed(SITE, BASE, SITE.pages).encode(), "application/octet-stream", FEED),
        (sitemap(BASE, SITE.pages).encode(), "text/plain", SITEMAP),
        (sitemap_index(BASE, ["/s1.xml"]).encode(), "", SITEMAP_INDEX),
        (gzip.compress(sitemap(BASE, SITE.pages).encode()), "application/x-gzip", SITEMAP),
        (b'<?xml version="1.0"?>\n<!-- c -->\n<rdf:RDF xmlns:rdf="x"><item/></rdf:RDF>', "text/xml", FEED),
        (b"<!DOCTYPE html>\n<html lang='ar'><body>x</body></html>", "application/xml", HTML),
        (b"https://a.example/1\nhttps://a.example/2\n", "text/plain", URL_LIST),
        (b"%PDF-1.4 ...", "application/pdf", "other: PDF document"),
        (b"\x89PNG\r\n", "image/png", "other: image/png"),
        (BROKEN_FEED.encode(), "application/xml", FEED),
    ],
)
def test_sniff_by_content(content, ctype, kind):
    assert sniff(content, ctype) == kind


def test_rss_links_dates_and_order():
    pages = SITE.pages[::3][:2]  # one a day apart
    listing = parse_listing(rss_feed(SITE, BASE, pages[::-1]).encode(), BASE + "/rss", FEED)
    assert [e.url for e in listing.entries] == [BASE + p.path for p in pages]  # newest first, tracking dropped
    assert [e.published for e in listing.entries] == [p.iso_date for p in pages]
    assert listing.entries[0].title == pages[0].title and not listing.problem


def test_atom_dates_stay_in_the_publishers_time_zone():
    xml = """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <entry><title>a</title><link href="/n/1"/><id>1</id><published>2026-11-20T01:30:00+03:00</published>
    <updated>2026-11-20T02:00:00+03:00</updated></entry></feed>"""
    (entry,) = parse_listing(xml.encode(), BASE + "/atom.xml", FEED).entries
    assert entry.url == BASE + "/n/1"
    assert entry.published == "2026-11-20"  # not the 19th, as it is in UTC
    assert entry.updated == "2026-11-19T23:00:00+00:00"


def test_sitemap_index_and_news_sitemap():
    index = parse_listing(sitemap_index(BASE, ["/a.xml", "/b.xml"]).encode(), BASE, SITEMAP_INDEX)
    assert [s.url for s in index.sitemaps] == [BASE + "/a.xml", BASE + "/b.xml"] and not index.entries
    news = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://alwaha.example/n/2</loc><news:news><news:publication_date>2026-11-02T10:00:00+03:00</news:publication_date></news:news></url>
      <url><loc>https://alwaha.example/n/1</loc><lastmod>2026-11-01</lastmod></url>
      <url><loc>javascript:alert(1)</loc></url></urlset>"""
    listing = parse_listing(news, BASE, SITEMAP)
    assert [(e.url, e.published) for e in listing.entries] == [(BASE + "/n/2", "2026-11-02"), (BASE + "/n/1", "")]
    assert listing.entries[1].updated.startswith("2026-11-01")


def test_malformed_feed_without_links_is_an_error():
    with pytest.raises(NotAListing, match="malformed feed XML"):
        parse_listing(b"<rss><channel><title>x</title><item><title>y", BASE, FEED)


def test_malformed_sitemap_keeps_what_it_can_and_says_so():
    broken = sitemap(BASE, SITE.pages[:2]).encode().replace(b"</urlset>", b"<url><loc>")
    listing = parse_listing(broken, BASE, SITEMAP)
    assert len(listing.entries) == 2 and "malformed sitemap XML" in listing.problem


def test_entities_are_not_expanded():
    xxe = b"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/&x;</loc></url></urlset>"""
    listing = parse_listing(xxe, BASE, SITEMAP)
    assert all("root:" not in e.url for e in listing.entries)


def test_gzip_bomb_is_refused():
    with pytest.raises(NotAListing, match="decompressed"):
        gunzip(gzip.compress(b"0" * 2_000_000), limit=1_000_000)


def test_a_feed_whose_doctype_has_an_internal_subset_is_a_feed_and_its_entities_stay_unexpanded():
    """Taken for an HTML page before (the DOCTYPE's ">" inside the subset ended the sniffing)."""
    declarations = "".join(f'  <!ENTITY filler{n} "a harmless declaration, number {n}">\n' for n in range(20)).encode()
    laughs = (
        b"""<?xml version="1.0"?>
<!DOCTYPE rss [
"""
        + declarations
        + b"""  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>t</title>
<item><title>&lol3;</title><link>https://a.example/news/1</link></item></channel></rss>"""
    )
    assert len(laughs.split(b"]>")[0]) > 1000  # longer than the sniffer's look-ahead of 512 bytes
    assert sniff(laughs) == FEED
    listing = parse_listing(laughs, BASE, FEED)
    assert [e.url for e in listing.entries] == ["https://a.example/news/1"]
    assert "lollol" not in listing.entries[0].title
