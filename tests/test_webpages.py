"""Extraction from news pages: charsets, page furniture, related-article teasers, titles, dates, URLs."""

from __future__ import annotations

import pytest

from index.corpus.pagedump import drop_related, is_inline_teaser, is_related_heading
from index.web.pages import DateHint, NotAnArticle, clean_lines, decode_html, extract_article, text_date
from tests.support.website import NewsSite, render_page

BASE = "https://alwaha.example"
SITE = NewsSite.generate(15)
BODY = (
    "أعلنت وزارة النقل افتتاح الطريق السريع بين المدينتين بطول 120 كيلومتراً. وقال الوزير إن الطريق سيختصر زمن الرحلة إلى النصف."
)


def page_bytes(page, charset: str | None = None) -> bytes:
    return render_page(SITE, page, BASE).encode(charset or page.charset, errors="replace")


@pytest.mark.parametrize("page", SITE.pages, ids=lambda p: f"{p.slug}-{p.template}-{p.charset}-{p.charset_in}")
def test_site_pages_extract_cleanly(page):
    header = {"header": {"cp1256": "windows-1256", "iso8859_6": "iso-8859-6"}.get(page.charset, page.charset)}.get(
        page.charset_in, ""
    )
    article = extract_article(page_bytes(page), BASE + page.path + "?utm_source=rss&id=7", header)
    assert article.title == page.title
    assert article.date == page.iso_date
    assert article.url == BASE + page.path  # the canonical link, not the tracking URL
    assert article.source == SITE.name
    squashed = " ".join(article.text.split())
    assert all(sentence in squashed for sentence in page.sentences)
    leaked = [f for f in SITE.furniture() + SITE.teasers(page) if len(f.split()) >= 2 and f in article.text]
    assert leaked == []


@pytest.mark.parametrize(
    ("charset", "header", "meta"),
    [
        ("cp1256", "windows-1256", False),
        ("iso8859_6", "ISO-8859-6", False),
        ("cp1256", "", True),  # charset only in <meta>
        ("iso8859_6", "", True),
        ("cp1256", "", False),  # declared nowhere: detected
        ("iso8859_6", "", False),
        ("cp1256", "iso-8859-1", True),  # a server's Latin-1 default does not beat the page's own declaration
        ("cp1256", "iso-8859-1", False),  # ... nor Arabic bytes with no declaration at all
        ("utf-8", "", False),
    ],
)
def test_arabic_charsets_decode(charset, header, meta):
    label = {"cp1256": "windows-1256", "iso8859_6": "iso-8859-6"}.get(charset, charset)
    head = f'<meta charset="{label}">' if meta else ""
    html = (
        f"<html><head>{head}<title>خبر</title></head><body><h1>افتتاح الطريق السريع</h1><p>{BODY}</p><p>{BODY}</p></body></html>"
    )
    text, used = decode_html(html.encode(charset), header)
    assert BODY in text, used


def test_utf8_bom_wins():
    text, used = decode_html("\ufeff<p>مرحبا</p>".encode("utf-8-sig"), "windows-1256")
    assert used == "utf-8" and "مرحبا" in text


def test_related_block_inside_the_body_is_dropped_and_the_body_after_it_kept():
    teasers = "".join(f'<p><a href="/n/{i}">عنوان خبر آخر عن موضوع مختلف رقم {i}</a></p>' for i in range(3))
    html = f"""<html><head><title>طريق جديد</title></head><body><article><h1>طريق جديد</h1>
    <p>{BODY}</p><p><strong>اقرأ أيضاً</strong></p>{teasers}
    <p>وأضاف الوزير أن العمل في المرحلة الثانية سيبدأ في الربيع المقبل بتكلفة إجمالية تبلغ 300 مليون.</p>
    <p>وأشار إلى أن الطريق مزود بأنظمة ذكية لمراقبة السرعة والازدحام على مدار الساعة.</p>
    <p>إقرأ أيضا: <a href="/n/9">وزير النقل يتفقد مشروعات الطرق في الجنوب</a></p>
    </article></body></html>"""
    article = extract_article(html.encode(), "https://x.example/a/1")
    assert "المرحلة الثانية" in article.text and "أنظمة ذكية" in article.text
    assert "عنوان خبر آخر" not in article.text and "يتفقد مشروعات" not in article.text
    assert "اقرأ" not in article.text and "إقرأ" not in article.text


def test_page_without_an_article_says_so_and_names_its_feed():
    html = '<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head><body><nav><a href="/">الرئيسية</a></nav></body></html>'
    with pytest.raises(NotAnArticle, match=r"no article text.*https://x\.example/rss"):
        extract_article(html.encode(), "https://x.example/section")


def test_canonical_pointing_at_the_home_page_is_ignored():
    html = f'<html><head><link rel="canonical" href="https://x.example/"><title>طريق</title></head><body><h1>طريق</h1><p>{BODY}</p></body></html>'
    assert extract_article(html.encode(), "https://x.example/news/5?utm_medium=social").url == "https://x.example/news/5"


def test_feed_date_is_used_when_the_page_has_none_in_its_markup():
    html = f"<html><head><title>طريق</title></head><body><h1>طريق</h1><p>{BODY}</p></body></html>"
    article = extract_article(html.encode(), "https://x.example/news/5", hint=DateHint("2026-10-02", True))
    assert article.date == "2026-10-02"
    written = html.replace("<p>", "<p>نشر في ٣ تشرين الثاني ٢٠٢٦</p><p>", 1)
    assert extract_article(written.encode(), "https://x.example/news/5").date == "2026-11-03"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الجمعة 20 نوفمبر 2026 - 08:30", "2026-11-20"),
        ("نشر بتاريخ ٣ تشرين الثاني ٢٠٢٦", "2026-11-03"),
        ("السبت 1 أيار، 2021", "2021-05-01"),
        ("15 جويلية 2025", "2025-07-15"),
        ("آخر تحديث 2026/02/28", "2026-02-28"),
        ("20/11/2026", "2026-11-20"),
        ("31 فبراير 2026 ثم 2 مارس 2026", "2026-03-02"),  # an impossible date is skipped
        ("في عام 2030 سيكتمل المشروع", ""),
        ("3 نوفمبر 2099", ""),  # in the future
    ],
)
def test_text_date(text, expected):
    assert text_date(text) == expected


def test_clean_lines_drops_furniture_and_teasers():
    text = "\n".join(
        [
            "طريق جديد",  # the headline again
            BODY,
            "اقرأ أيضاً: وزير النقل يتفقد مشروعات الطرق",
            "جميع الحقوق محفوظة © 2026",
            "شارك الخبر على فيسبوك",
            "الوسوم: نقل، طرق",
            "وأضاف أن الطريق يفتح غداً.",
            "مقالات ذات صلة",
            "عنوان خبر آخر",
        ]
    )
    assert clean_lines(text, "طريق جديد") == BODY + "\nوأضاف أن الطريق يفتح غداً."


def test_related_heading_knowledge_is_shared_with_page_dumps():
    assert is_related_heading("إقرأ أيضا:") and is_related_heading("مقالات ذات صلة") and is_related_heading("Read more")
    assert not is_related_heading("اقرأ أيضاً ما قاله الوزير عن الطريق الجديد في المؤتمر")
    assert is_inline_teaser("اقرأ أيضاً: وزير النقل يتفقد مشروعات الطرق")
    assert drop_related(["أ", "اقرأ أيضاً: خبر", "ب", "أخبار ذات صلة", "ج"]) == ["أ", "ب"]


FOREIGN = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>ارتفاع صادرات التمور إلى أوروبا - موقع النخلة الإخباري</title>
<meta name="pubdate" content="2025-03-14"></head>
<body><div class="container"><div class="row top"><div class="col-12 logo">موقع النخلة الإخباري</div>
<ul class="list-inline"><li><a href="/">الرئيسية</a></li><li><a href="/eco">اقتصاد</a></li><li><a href="/sport">رياضة</a></li></ul></div>
<div class="row"><div class="col-md-8">
<h1 class="headline">ارتفاع صادرات التمور إلى أوروبا</h1>
<div class="info"><span>كتبه: فريق التحرير</span> | <span>الجمعة 14 مارس 2025</span></div>
<div class="social-icons"><a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">واتساب</a></div>
<div class="story-text">
<div>ارتفعت صادرات التمور إلى دول الاتحاد الأوروبي بنسبة 18 في المئة خلال العام الماضي بحسب بيانات رسمية نشرت اليوم.</div>
<div>وقال رئيس جمعية المصدرين إن الطلب تركز على أصناف المجهول والسكري والخلاص في الأسواق الألمانية والفرنسية.</div>
<div class="box-more"><h4>موضوعات ذات صلة</h4>
<div class="card"><a href="/n/1">موسم حصاد التمور يبدأ مبكراً هذا العام في الواحات</a></div>
<div class="card"><a href="/n/2">معرض دولي للتمور يستقطب مشترين من ثلاثين دولة</a></div></div>
<div>وأضاف أن المصدرين يستعدون لافتتاح مكتب تسويق دائم في مدينة روتردام الهولندية قبل نهاية الصيف المقبل.</div>
</div>
<div class="fb-comments">أضف تعليقك عبر فيسبوك</div>
</div><div class="col-md-4"><h3>الأكثر مشاهدة</h3><ol><li><a href="/n/3">أسعار الذهب تتراجع في الأسواق المحلية مع نهاية الأسبوع</a></li></ol></div></div>
<div class="row copyright">© 2025 موقع النخلة الإخباري. جميع الحقوق محفوظة</div></div></body></html>"""


def test_a_template_written_apart_from_the_test_site():
    """A layout the extractor was not tuned on: div paragraphs, cards of related links mid-body, Bootstrap rows."""
    article = extract_article(FOREIGN.encode(), "https://nakhla.example/eco/2025/dates-exports")
    assert article.title == "ارتفاع صادرات التمور إلى أوروبا"
    assert article.date == "2025-03-14"
    for kept in ("بنسبة 18 في المئة", "المجهول والسكري", "مدينة روتردام"):
        assert kept in article.text
    for dropped in ("موسم حصاد التمور", "معرض دولي", "أسعار الذهب", "جميع الحقوق", "فيسبوك", "الرئيسية", "موضوعات ذات صلة"):
        assert dropped not in article.text
