"""A local Arabic news website for fetch tests and the fetch benchmark.

Why: fetching must be tested on pages that look like real news pages — navigation,
cookie banner, share bar, comments, "related articles" teasers, footer — and on the
faults real sites have, without touching the network. Everything here is written
by this team: the articles are generated from phrase lists, so a site of any size
can be made, and every page knows its own body sentences and furniture, so tests
can measure what extraction kept and what it let through.

Usage::

    site = NewsSite.generate(20)
    with SiteServer(site) as server:
        server.url("/feeds/rss.xml")
        server.requests  # (method, path) of every request served

Three page templates (semantic HTML5, WordPress-like div soup, an old table layout
served in windows-1256) and the fault paths are listed in ``SiteServer`` below.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CITIES = [
    "الرياض", "جدة", "الدمام", "القاهرة", "الإسكندرية", "عمّان", "بيروت", "بغداد", "الكويت", "الدوحة",
    "مسقط", "تونس", "الرباط", "الجزائر", "الخرطوم", "أبوظبي", "المنامة", "صنعاء", "دمشق", "طرابلس",
]  # fmt: skip
BODIES = [
    "وزارة الصحة", "هيئة الطيران المدني", "البنك المركزي", "وزارة التعليم", "هيئة السياحة", "وزارة الطاقة",
    "الاتحاد المحلي لكرة القدم", "هيئة الأرصاد الجوية", "وزارة النقل", "غرفة التجارة والصناعة", "وزارة الثقافة",
    "هيئة المياه", "وزارة الزراعة", "المجلس البلدي", "هيئة الاتصالات", "وزارة الإسكان",
]  # fmt: skip
SUBJECTS = [
    ("افتتاح مستشفى جديد", "المستشفى", "سرير"), ("إطلاق خط طيران", "الخط الجوي", "رحلة أسبوعية"),
    ("خفض أسعار الفائدة", "القرار", "نقطة أساس"), ("بناء مدارس حديثة", "المشروع", "مدرسة"),
    ("مهرجان للتراث الشعبي", "المهرجان", "زائر"), ("محطة للطاقة الشمسية", "المحطة", "ميغاواط"),
    ("بطولة إقليمية للشباب", "البطولة", "لاعب"), ("موجة حر غير مسبوقة", "الموجة", "درجة مئوية"),
    ("توسعة شبكة القطارات", "التوسعة", "كيلومتر"), ("معرض للصناعات الوطنية", "المعرض", "شركة"),
    ("مسابقة للخط العربي", "المسابقة", "متسابق"), ("تحلية مياه البحر", "المحطة الجديدة", "متر مكعب"),
    ("دعم مزارعي النخيل", "البرنامج", "مزارع"), ("تطوير الحدائق العامة", "الخطة", "حديقة"),
    ("شبكة ألياف ضوئية", "الشبكة", "منزل"), ("مشروع سكني للشباب", "المشروع السكني", "وحدة سكنية"),
]  # fmt: skip
PEOPLE = ["أحمد السالم", "منى الحربي", "خالد العتيبي", "سارة الكندري", "يوسف المصري", "ليلى حداد", "عمر الشامي", "هدى البنا"]
ROLES = ["المتحدث الرسمي باسم", "مدير عام", "رئيس قسم التخطيط في", "مستشار"]
WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]

SITE_NAME = "صحيفة الواحة"
NAV = ["الرئيسية", "محليات", "سياسة", "اقتصاد", "رياضة", "ثقافة وفنون", "منوعات", "اتصل بنا"]
COOKIE = "نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا. بمتابعة التصفح فإنك توافق على سياسة الخصوصية."
COOKIE_BUTTON = "موافق على ملفات الارتباط"
SHARE = ["شارك الخبر عبر فيسبوك", "شارك الخبر عبر إكس", "أرسل الخبر عبر واتساب", "انسخ رابط الخبر"]
NEWSLETTER = "اشترك في نشرتنا البريدية اليومية لتصلك أهم الأخبار صباح كل يوم"
FOOTER = [
    "جميع الحقوق محفوظة لصحيفة الواحة الإلكترونية",
    "من نحن وهيئة التحرير",
    "سياسة الخصوصية وشروط الاستخدام",
    "للإعلان في الصحيفة تواصل مع إدارة التسويق",
]
COMMENTS = [
    "خبر مفرح جداً ونتمنى أن يعم الخير جميع المدن يا رب",
    "متى سيبدأ التنفيذ الفعلي على أرض الواقع؟ سمعنا الكلام نفسه العام الماضي",
    "شكراً للصحيفة على المتابعة المستمرة والتغطية المميزة",
]
RELATED_HEADINGS = ["مقالات ذات صلة", "أخبار ذات صلة", "اقرأ أيضاً"]


@dataclass
class Page:
    """One article of the site, with what a perfect extractor would return."""

    slug: str
    title: str
    day: date
    author: str
    paragraphs: list[str]
    template: str = "modern"  # modern | wordpress | classic
    charset: str = "utf-8"
    charset_in: str = "header"  # header | meta | none
    related: list[str] = field(default_factory=list)  # slugs of teased articles
    read_also: str = ""  # slug teased inside the body

    @property
    def path(self) -> str:
        return f"/news/{self.day:%Y/%m}/{self.slug}.html"

    @property
    def sentences(self) -> list[str]:
        return [s.strip() + "." for p in self.paragraphs for s in p.split(".") if s.strip()]

    @property
    def iso_date(self) -> str:
        return self.day.isoformat()


@dataclass
class NewsSite:
    """A generated site: pages by slug, newest first."""

    pages: list[Page]
    name: str = SITE_NAME

    @classmethod
    def generate(cls, n: int, seed: int = 7, start: date = date(2026, 11, 20)) -> NewsSite:
        """``n`` articles, one every few hours going back from ``start``, in the three templates."""
        rng = random.Random(seed)
        pages: list[Page] = []
        for i in range(n):
            city = CITIES[i % len(CITIES)]
            body = BODIES[(i * 7) % len(BODIES)]
            topic, noun, unit = SUBJECTS[(i * 3 + i // len(SUBJECTS)) % len(SUBJECTS)]
            title = f"{body} تعلن {topic} في {city} ضمن خطة العام رقم {i + 1}"
            day = start - timedelta(days=i // 3)
            paragraphs = _paragraphs(rng, i, city, body, noun, unit, day)
            template = ("modern", "wordpress", "classic")[i % 3]
            pages.append(Page(f"story-{i + 1:04d}", title, day, PEOPLE[i % len(PEOPLE)], paragraphs, template))
        for page in pages:
            others = [p.slug for p in pages if p is not page]
            rng.shuffle(others)
            page.related = others[:4]
            page.read_also = others[4] if len(others) > 4 else ""
        classic = [p for p in pages if p.template == "classic"]
        variants = [("cp1256", "header"), ("iso8859_6", "header"), ("cp1256", "meta"), ("cp1256", "none"), ("iso8859_6", "none")]
        for n, page in enumerate(classic):  # old Arabic sites: legacy charsets, declared in the header, a <meta>, or nowhere
            page.charset, page.charset_in = variants[n % len(variants)]
        return cls(pages)

    def page(self, slug: str) -> Page:
        return next(p for p in self.pages if p.slug == slug)

    def by_path(self, path: str) -> Page | None:
        return next((p for p in self.pages if p.path == path), None)

    def furniture(self) -> list[str]:
        """Every boilerplate string a page may carry; none of them may reach the index."""
        return [*NAV[1:], COOKIE, COOKIE_BUTTON, *SHARE, NEWSLETTER, *FOOTER, *COMMENTS, *RELATED_HEADINGS, "الأكثر قراءة"]

    def teasers(self, page: Page) -> list[str]:
        """Titles and snippets of other articles shown on ``page``; none may reach its text."""
        slugs = [*page.related, *([page.read_also] if page.read_also else []), *self.most_read(page)]
        out: list[str] = []
        for slug in slugs:
            other = self.page(slug)
            out += [other.title, _snippet(other)]
        return out

    def most_read(self, page: Page) -> list[str]:
        return [p.slug for p in self.pages[:5] if p is not page][:3]


def _paragraphs(rng: random.Random, i: int, city: str, body: str, noun: str, unit: str, day: date) -> list[str]:
    person, role = PEOPLE[(i * 5) % len(PEOPLE)], ROLES[i % len(ROLES)]
    n1, n2, n3 = rng.randint(12, 950), rng.randint(3, 80), rng.randint(2027, 2031)
    cost = rng.randint(15, 900)
    weekday = WEEKDAYS[day.weekday()]
    paras = [
        f"أعلنت {body} يوم {weekday} في {city} تفاصيل {noun} الذي يضم {n1} {unit} في مرحلته الأولى. "
        f"وقالت إن العمل بدأ فعلياً في {n2} موقعاً داخل المدينة وضواحيها",
        f"وأوضح {person} {role} {body} أن كلفة {noun} تبلغ {cost} مليون دولار ممولة من الميزانية العامة. "
        f"وأضاف أن الجدول الزمني يمتد حتى عام {n3} على ثلاث مراحل متتالية",
        f"وأشار {person} إلى أن {noun} سيوفر نحو {n2 * 40} فرصة عمل لأبناء {city} خلال سنوات التنفيذ. "
        f"ولفت إلى أن الأولوية ستكون للخريجين الجدد من الجامعات والمعاهد الفنية",
        f"ويأتي الإعلان بعد دراسة استمرت {n2 % 11 + 2} أشهر شاركت فيها جهات حكومية وخاصة. "
        f"وقد رصدت الدراسة حاجة متزايدة في أحياء {city} الشمالية والشرقية",
        f"ورحب سكان في {city} بالخطوة وقالوا إنها تأخرت كثيراً. "
        f"وطالب آخرون بنشر مواعيد التنفيذ بشفافية على الموقع الرسمي لـ{body}",
    ]
    if i % 2:
        paras.append(
            f"ومن المقرر أن تعقد {body} لقاءً مفتوحاً مع الأهالي في {city} الشهر المقبل لعرض المخططات. "
            f"وسيُتاح للحضور تقديم ملاحظاتهم مكتوبة قبل اعتماد التصاميم النهائية لـ{noun} رقم {i + 1}"
        )
    return [p + "." for p in paras]


def _snippet(page: Page) -> str:
    return page.paragraphs[0].split(".")[0][:90]


def arabic_date(d: date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


# ------------------------------------------------------------------ templates


def _teaser_items(site: NewsSite, slugs: list[str]) -> str:
    items = []
    for slug in slugs:
        other = site.page(slug)
        items.append(
            f'<li><a href="{other.path}"><img src="/img/{slug}.jpg" alt="">'
            f'<span class="t">{html.escape(other.title)}</span></a><p>{html.escape(_snippet(other))}</p></li>'
        )
    return "\n".join(items)


def _head(site: NewsSite, page: Page, base: str, charset_meta: str = "") -> str:
    url = base + page.path
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page.title,
        "datePublished": f"{page.iso_date}T08:30:00+03:00",
        "dateModified": f"{page.iso_date}T11:00:00+03:00",
        "author": {"@type": "Person", "name": page.author},
        "publisher": {"@type": "Organization", "name": site.name},
    }
    meta_date = (
        f'<meta property="article:published_time" content="{page.iso_date}T08:30:00+03:00">' if page.template == "modern" else ""
    )
    ld_block = (
        f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
        if page.template == "wordpress"
        else ""
    )
    return f"""<head>{charset_meta}
<title>{html.escape(page.title)} | {site.name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{html.escape(page.title)}">
<meta property="og:site_name" content="{site.name}">
<meta property="og:type" content="article">
<meta name="description" content="{html.escape(_snippet(page))}">
{meta_date}
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" title="RSS" href="{base}/feeds/rss.xml">
<link rel="stylesheet" href="/static/site.css">
{ld_block}
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>"""


def _nav() -> str:
    links = "".join(f'<li><a href="/section/{i}">{name}</a></li>' for i, name in enumerate(NAV))
    return f'<nav class="main-menu"><ul>{links}</ul></nav>'


def _comments() -> str:
    items = "".join(
        f'<li class="comment"><span class="author">زائر {n + 1}</span><p>{c}</p><a href="#reply">رد</a></li>'
        for n, c in enumerate(COMMENTS)
    )
    return (
        f'<section id="comments" class="comments-area"><h3>التعليقات ({len(COMMENTS)})</h3><ol>{items}</ol>'
        '<form><textarea name="c"></textarea><button>أضف تعليقك</button></form></section>'
    )


def _footer(site: NewsSite, page: Page) -> str:
    most = _teaser_items(site, site.most_read(page))
    links = "".join(f"<li><a href='/p/{n}'>{t}</a></li>" for n, t in enumerate(FOOTER[1:]))
    return (
        f'<aside class="sidebar"><h3>الأكثر قراءة</h3><ol>{most}</ol>'
        f'<div class="newsletter"><p>{NEWSLETTER}</p><input type="email"><button>اشترك</button></div></aside>'
        f'<footer class="site-footer"><ul>{links}</ul><p>© {page.day.year} {FOOTER[0]}</p></footer>'
    )


def _cookie() -> str:
    return f'<div id="cookie-consent" class="cookie-banner"><p>{COOKIE}</p><button>{COOKIE_BUTTON}</button></div>'


def _share() -> str:
    return '<div class="share-bar">' + "".join(f'<a class="share" href="#s{n}">{t}</a>' for n, t in enumerate(SHARE)) + "</div>"


def _read_also(site: NewsSite, page: Page) -> str:
    if not page.read_also:
        return ""
    other = site.page(page.read_also)
    return f'<div class="read-also"><strong>اقرأ أيضاً:</strong> <a href="{other.path}">{html.escape(other.title)}</a></div>'


def render_page(site: NewsSite, page: Page, base: str) -> str:
    """The page's HTML (a str; the server encodes it in ``page.charset``)."""
    charset_meta = ""
    if page.charset_in == "meta" or (page.charset == "utf-8" and page.charset_in != "none"):
        name = {"cp1256": "windows-1256", "iso8859_6": "iso-8859-6"}.get(page.charset, page.charset)
        charset_meta = (
            f'<meta http-equiv="Content-Type" content="text/html; charset={name}">'
            if page.template == "classic"
            else f'<meta charset="{name}">'
        )
    head = _head(site, page, base, charset_meta)
    paras = [f"<p>{html.escape(p)}</p>" for p in page.paragraphs]
    middle = max(1, len(paras) // 2)
    related = f'<h2 class="related-title">{RELATED_HEADINGS[0]}</h2><ul>{_teaser_items(site, page.related)}</ul>'
    if page.template == "modern":
        body = f"""<header class="site-header"><a class="logo" href="/"><img src="/logo.png" alt="{site.name}"></a>{_nav()}
<div class="ticker"><span>عاجل</span> <a href="{site.page(page.related[0]).path}">{html.escape(site.page(page.related[0]).title)}</a></div></header>
{_cookie()}
<main><article class="story">
<ol class="breadcrumbs"><li><a href="/">الرئيسية</a></li><li><a href="/section/2">محليات</a></li></ol>
<h1>{html.escape(page.title)}</h1>
<div class="byline"><span class="author">{page.author}</span> <time datetime="{page.iso_date}T08:30:00+03:00">{arabic_date(page.day)}</time></div>
{_share()}
<figure><img src="/img/{page.slug}.jpg" alt=""><figcaption>صورة أرشيفية من {site.name}</figcaption></figure>
<div class="article-body">
{"".join(paras[:middle])}
{_read_also(site, page)}
{"".join(paras[middle:])}
</div>
<div class="tags">الوسوم: <a href="/tag/1">{CITIES[0]}</a> <a href="/tag/2">خدمات</a></div>
<section class="related-articles">{related}</section>
</article>
{_comments()}
</main>
{_footer(site, page)}"""
    elif page.template == "wordpress":
        body = f"""<div id="page"><div class="top-bar">{_nav()}<form class="search"><input placeholder="ابحث في الموقع"></form></div>
<div class="gdpr-notice">{_cookie()}</div>
<div id="content"><div class="post hentry">
<h1 class="entry-title">{html.escape(page.title)}</h1>
<div class="entry-meta">بقلم {page.author} · {arabic_date(page.day)}</div>
<div class="entry-content">
{"".join(paras[:middle])}
{_read_also(site, page)}
{"".join(paras[middle:])}
<div class="sharedaddy"><h3 class="sd-title">شارك هذا:</h3>{_share()}</div>
<div class="yarpp-related"><h3>{RELATED_HEADINGS[1]}</h3><ol>{_teaser_items(site, page.related)}</ol></div>
</div>
</div>
{_comments()}
</div>
{_footer(site, page)}</div>"""
    else:  # classic: tables, <br> paragraphs, date only as text
        rows = "<br><br>\n".join(html.escape(p) for p in page.paragraphs)
        teasers = "<br>".join(f'<a href="{site.page(s).path}">{html.escape(site.page(s).title)}</a>' for s in page.related)
        menu = " | ".join(f'<a href="/s{i}">{n}</a>' for i, n in enumerate(NAV))
        body = f"""<table width="100%"><tr><td class="menu">{menu}</td></tr>
<tr><td>{_cookie()}</td></tr>
<tr><td class="main">
<h1 class="title">{html.escape(page.title)}</h1>
<div class="date">نشر بتاريخ {arabic_date(page.day)}</div>
<div class="text">{rows}</div>
<div class="share">{_share()}</div>
<div class="more"><b>{RELATED_HEADINGS[2]}</b><br>{teasers}</div>
</td></tr>
<tr><td>{_comments()}</td></tr>
<tr><td>{_footer(site, page)}</td></tr></table>"""
    return f'<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n{head}\n<body>\n{body}\n</body>\n</html>\n'


# ------------------------------------------------------------------ feeds and sitemaps


def rss_feed(site: NewsSite, base: str, pages: list[Page]) -> str:
    items = "".join(
        f"<item><title>{html.escape(p.title)}</title><link>{base}{p.path}?utm_source=rss</link>"
        f'<guid isPermaLink="false">{p.slug}</guid>'
        f"<pubDate>{email.utils.format_datetime(datetime(p.day.year, p.day.month, p.day.day, 5, 30, tzinfo=UTC))}</pubDate>"
        f"<description>{html.escape(_snippet(p))}</description></item>\n"
        for p in pages
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{site.name}</title><link>{base}/</link><description>آخر الأخبار</description><language>ar</language>\n"
        f"{items}</channel></rss>\n"
    )


def atom_feed(site: NewsSite, base: str, pages: list[Page]) -> str:
    entries = "".join(
        f'<entry><title>{html.escape(p.title)}</title><link rel="alternate" href="{base}{p.path}"/>'
        f"<id>tag:alwaha,{p.iso_date}:{p.slug}</id><published>{p.iso_date}T08:30:00+03:00</published>"
        f"<updated>{p.iso_date}T11:00:00+03:00</updated><summary>{html.escape(_snippet(p))}</summary></entry>\n"
        for p in pages
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{site.name}</title><id>{base}/</id><updated>2026-11-20T12:00:00Z</updated>\n{entries}</feed>\n"
    )


def sitemap(base: str, pages: list[Page]) -> str:
    urls = "".join(f"<url><loc>{base}{p.path}</loc><lastmod>{p.iso_date}</lastmod></url>\n" for p in pages)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
    )


def sitemap_index(base: str, paths: list[str]) -> str:
    items = "".join(f"<sitemap><loc>{base}{p}</loc></sitemap>\n" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{items}</sitemapindex>\n'


ROBOTS = "User-agent: *\nDisallow: /private/\nDisallow: /search\n\nUser-agent: EvilBot\nDisallow: /\n"

BROKEN_FEED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>معطوب</title>'
    "<item><title>خبر بلا نهاية <link>http://x/</link></item></channel"
)


# ------------------------------------------------------------------ server


class SiteServer:
    """Serve a ``NewsSite`` and a set of faults on 127.0.0.1 from a thread.

    Paths: ``/robots.txt``; article pages at ``Page.path``; ``/feeds/rss.xml`` (RSS 2.0),
    ``/feeds/atom.xml`` (Atom), ``/feeds/rss-as-html`` (a feed served as text/html, no
    extension), ``/sitemap_index.xml`` -> ``/sitemaps/part-N.xml``, ``/listing?kind=sitemap``;
    faults: ``/fault/404``, ``/fault/flaky`` (500 once, then an article), ``/fault/busy``
    (429 with Retry-After once), ``/fault/slow`` (answers after ``slow_seconds``),
    ``/fault/huge`` (``huge_mb`` MB), ``/fault/loop`` (redirect loop), ``/fault/redirect``
    (2 hops to an article), ``/private/secret.html`` (robots.txt disallows it),
    ``/fault/report.pdf``, ``/feeds/broken.xml`` (malformed XML), ``/fault/empty``
    (a page with no article), ``/fault/js-redirect`` (redirect to a javascript: URL),
    ``/fault/drip`` (an answer that drips one byte every ``drip_seconds``, never ending on its own).
    Conditional requests (ETag / If-None-Match) get 304.
    """

    def __init__(
        self,
        site: NewsSite,
        *,
        slow_seconds: float = 2.0,
        huge_mb: int = 30,
        feed_size: int = 0,
        latency: float = 0.0,
        drip_seconds: float = 0.1,
    ) -> None:
        self.site = site
        self.slow_seconds = slow_seconds
        self.drip_seconds = drip_seconds
        self.huge_mb = huge_mb
        self.feed_size = feed_size or len(site.pages)
        self.latency = latency  # seconds every article page takes to answer (to observe concurrency)
        self.requests: list[tuple[str, str]] = []
        self.agents: set[str] = set()
        self.sent_bytes: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._hits: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.extra: dict[str, tuple[int, dict[str, str], bytes]] = {}  # path -> (status, headers, body), set by tests

    # --- lifecycle
    def __enter__(self) -> SiteServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="site-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p in self.requests]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def hit(self, path: str) -> int:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]

    # --- content
    def route(self, path: str) -> tuple[int, dict[str, str], bytes | None]:
        """(status, headers, body) for ``path``; body None means "stream the huge page"."""
        site, base = self.site, self.base
        bare = path.split("?", 1)[0]
        xml = "application/xml; charset=utf-8"
        if path in self.extra:
            return self.extra[path]
        if bare == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, ROBOTS.encode()
        page = site.by_path(bare)
        if page is not None:
            if self.latency:
                time.sleep(self.latency)
            return 200, _page_headers(page), render_page(site, page, base).encode(page.charset, errors="replace")
        newest = site.pages[: self.feed_size]
        if bare == "/feeds/rss.xml":
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, rss_feed(site, base, newest).encode()
        if bare == "/feeds/rss-as-html":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, rss_feed(site, base, newest[:3]).encode()
        if bare == "/feeds/atom.xml":
            return 200, {"Content-Type": "application/atom+xml"}, atom_feed(site, base, newest).encode()
        if bare == "/feeds/broken.xml":
            return 200, {"Content-Type": xml}, BROKEN_FEED.encode()
        parts = [site.pages[i : i + 50] for i in range(0, len(site.pages), 50)]
        if bare == "/sitemap_index.xml":
            return (
                200,
                {"Content-Type": xml},
                sitemap_index(base, [f"/sitemaps/part-{n + 1}.xml" for n in range(len(parts))]).encode(),
            )
        if bare.startswith("/sitemaps/part-"):
            n = int(bare.removeprefix("/sitemaps/part-").removesuffix(".xml")) - 1
            return 200, {"Content-Type": xml}, sitemap(base, parts[n]).encode()
        if bare == "/listing":  # a sitemap whose name says nothing
            return 200, {"Content-Type": "text/xml"}, sitemap(base, site.pages[:3]).encode()
        return self._fault(bare)

    def _fault(self, bare: str) -> tuple[int, dict[str, str], bytes | None]:
        site = self.site
        if bare == "/fault/flaky":
            if self.hit(bare) == 1:
                return 500, {"Content-Type": "text/plain"}, b"temporary failure"
            return 200, _page_headers(site.pages[0]), render_page(site, site.pages[0], self.base).encode()
        if bare == "/fault/busy":
            if self.hit(bare) == 1:
                return 429, {"Content-Type": "text/plain", "Retry-After": "1"}, b"slow down"
            return 200, _page_headers(site.pages[1]), render_page(site, site.pages[1], self.base).encode()
        if bare == "/fault/slow":
            time.sleep(self.slow_seconds)
            return 200, _page_headers(site.pages[2]), render_page(site, site.pages[2], self.base).encode()
        if bare == "/fault/drip":
            return 200, {"Content-Type": "text/html; charset=utf-8", "X-Drip": "1"}, None
        if bare in ("/fault/huge", "/fault/huge-declared"):  # the first without Content-Length: only streaming can cut it
            headers = {"Content-Type": "text/html; charset=utf-8", "X-Size": str(self.huge_mb * 1024 * 1024)}
            if bare == "/fault/huge-declared":
                headers["Content-Length"] = headers["X-Size"]
            else:
                headers["Connection"] = "close"
            return 200, headers, None
        if bare in ("/fault/loop", "/fault/loop2"):
            return 302, {"Location": "/fault/loop2" if bare == "/fault/loop" else "/fault/loop"}, b""
        if bare == "/fault/redirect":
            return 301, {"Location": "/fault/redirect2"}, b""
        if bare == "/fault/redirect2":
            return 302, {"Location": site.pages[3].path}, b""
        if bare == "/fault/js-redirect":
            return 302, {"Location": "javascript:alert(1)"}, b""
        if bare == "/fault/report.pdf":
            return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
        if bare == "/fault/empty":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body>{_nav()}<p>قريباً</p></body></html>".encode()
        if bare.startswith("/private/"):
            page = site.pages[4]
            return 200, _page_headers(page), render_page(site, page, self.base).encode(page.charset)
        return 404, {"Content-Type": "text/html; charset=utf-8"}, "<h1>الصفحة غير موجودة</h1>".encode()


def _page_headers(page: Page) -> dict[str, str]:
    name = {"cp1256": "windows-1256", "iso8859_6": "iso-8859-6"}.get(page.charset, page.charset)
    if page.charset_in == "header":
        return {"Content-Type": f"text/html; charset={name}"}
    return {"Content-Type": "text/html"}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # clients hanging up on purpose (size cap, timeout)
        pass


class _Handler(BaseHTTPRequestHandler):
    owner: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.owner
        with owner._lock:
            owner.requests.append(("GET", self.path))
            owner.agents.add(self.headers.get("User-Agent", ""))
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            self._answer(owner)
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _answer(self, owner: SiteServer) -> None:
        status, headers, body = owner.route(self.path)
        if body is None:
            self._stream_huge(headers)
            return
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status == 200:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
            with owner._lock:
                owner.sent_bytes[self.path] = owner.sent_bytes.get(self.path, 0) + len(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _drip(self, headers: dict[str, str]) -> None:
        """One byte at a time, each within any read timeout, for as long as the client keeps reading."""
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b"<html><body>")
            for _ in range(100_000):
                time.sleep(self.owner.drip_seconds)
                self.wfile.write(b" ")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream_huge(self, headers: dict[str, str]) -> None:
        if "X-Drip" in headers:
            self._drip(headers)
            return
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        block = ("<p>" + "نص طويل جداً " * 500 + "</p>\n").encode()
        sent, total = 0, int(headers["X-Size"])
        self.close_connection = True
        try:
            self.wfile.write(b"<html><body>")
            sent += 12
            while sent < total:
                piece = block[: total - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        with self.owner._lock:
            self.owner.sent_bytes[self.path] = sent


# ------------------------------------------------------------------ measuring an index of the site


def _squash(text: str) -> str:
    return " ".join(text.split())


def site_quality(site: NewsSite, base: str, index_dir) -> dict:
    """How well an index holds the site: pages found with the right title, date and URL; the share of
    each body's sentences kept; boilerplate or teaser strings that got in (with where)."""
    from index.corpus.urls import canonical_url
    from index.storage.loading import open_index

    stored = open_index(index_dir)
    by_url = {}
    for idx, row in stored.articles(list(range(len(stored.article_ids)))).items():
        chunks = [c["text"] for c in stored.article_chunks(idx)]
        by_url[row["url"]] = (row, stored.article_text(idx), chunks)
    furniture = [f for f in site.furniture() if len(f.split()) >= 3]
    single = {normalize_line(f) for f in site.furniture() if len(f.split()) < 3}
    right, kept, leaks = 0, [], []
    for page in site.pages:
        found = by_url.get(canonical_url(base + page.path))
        if found is None:
            kept.append(0.0)
            continue
        row, text, chunks = found
        right += row["title"] == page.title and row["date"] == page.iso_date
        body = _squash(text)
        kept.append(sum(_squash(s) in body for s in page.sentences) / len(page.sentences))
        foreign = furniture + [t for t in site.teasers(page) if len(t.split()) >= 3]
        for chunk in chunks:
            flat = _squash(chunk)
            leaks += [(page.slug, f) for f in foreign if f in flat]
            leaks += [(page.slug, line) for line in chunk.splitlines() if normalize_line(line) in single]
    return {
        "pages": len(site.pages),
        "indexed": len(by_url),
        "right_title_date_url": right,
        "min_sentences_kept": min(kept) if kept else 0.0,
        "mean_sentences_kept": sum(kept) / len(kept) if kept else 0.0,
        "boilerplate": leaks,
    }


def normalize_line(line: str) -> str:
    return _squash(line).strip(" :.")
