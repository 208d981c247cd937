"""Display names of news outlets, looked up from a slug, a domain or a file name.

Corpora name outlets inconsistently ("okaz", "www.okaz.com.sa", "asharq-alawsat-...");
readers should see the outlet's own Arabic name. Unknown outlets keep what the
article gave.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# key fragment (lower case, found in a slug, domain or file name) -> display name
OUTLETS: dict[str, str] = {
    "aawsat": "الشرق الأوسط",
    "asharq-alawsat": "الشرق الأوسط",
    "asharqalawsat": "الشرق الأوسط",
    "alarabiya": "العربية",
    "aljazeera": "الجزيرة",
    "alweeam": "الوئام",
    "okaz": "عكاظ",
    "aleqtisadiya": "الاقتصادية",
    "aleqt": "الاقتصادية",
    "alriyadh": "الرياض",
    "alyaum": "اليوم",
    "almadina": "المدينة",
    "al-madina": "المدينة",
    "alwatan": "الوطن",
    "sabq": "سبق",
    "aljazirah": "الجزيرة (السعودية)",
    "al-jazirah": "الجزيرة (السعودية)",
    "spa.gov.sa": "واس",
    "reuters": "رويترز",
    "bbc": "بي بي سي",
    "skynewsarabia": "سكاي نيوز عربية",
    "independentarabia": "إندبندنت عربية",
    "alquds": "القدس العربي",
    "annahar": "النهار",
    "ahram": "الأهرام",
    "youm7": "اليوم السابع",
    "wikipedia": "ويكيبيديا",
}


def outlet_name(*hints: str) -> str:
    """Return the display name for the first hint that names a known outlet, else ``""``.

    Hints may be a source slug, a URL or a file name; the longest matching key
    wins so "al-jazirah" is not mistaken for "aljazeera".
    """
    for hint in hints:
        if not hint:
            continue
        text = hint.lower()
        if "://" in text:
            text = url_host(text) or text
        matches = [key for key in OUTLETS if key in text]
        if matches:
            return OUTLETS[max(matches, key=len)]
    return ""


def display_source(source: str, url: str = "", path: str = "") -> str:
    """The outlet name to show: a known outlet's name, else the given source, else the URL's host."""
    known = outlet_name(source, url) or (outlet_name(path) if not source else "")
    if known:
        return known
    if source:
        return source
    return url_host(url).removeprefix("www.")


def url_host(url: str) -> str:
    """The host part of ``url``, or "" when there is none or the URL is malformed ("http://[bad")."""
    try:
        return urlsplit(url).netloc if url else ""
    except ValueError:
        return ""
