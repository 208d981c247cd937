"""Interface texts of the newsroom's desk (takedowns), in Arabic and English; ``bot.texts`` serves them."""

from __future__ import annotations

AR, EN = "ar", "en"

DESK_TEXTS: dict[str, dict[str, str]] = {
    "takedown_usage": {
        AR: "الاستخدام: /remove ثم معرّف الخبر أو رابطه أو رابط منشور t.me (واحد أو أكثر).",
        EN: "Usage: /remove followed by an article id, its link, or a t.me post link (one or more).",
    },
    "takedown_preview": {
        AR: "🗑 حذف من الأرشيف ({n}):\n{list}{unknown}\n\nسيُحذف من الفهرس ولن يعود مع الجلب أو الرفع أو إعادة البناء. /restore يتراجع عنه.",
        EN: "🗑 Take down ({n}):\n{list}{unknown}\n\nIt leaves the index and stays out of later fetches, uploads and rebuilds. /restore undoes it.",
    },
    "takedown_unknown": {
        AR: "\nليس في الفهرس الآن (سيُمنع إن وصل): {targets}",
        EN: "\nNot in the index now (kept out should it come): {targets}",
    },
    "takedown_nothing": {
        AR: "لم أجد في الفهرس شيئاً بهذا المعرّف أو الرابط.",
        EN: "Nothing in the index has that id or link.",
    },
    "btn_takedown": {AR: "🗑 حذف من الأرشيف", EN: "🗑 Take down"},
    "btn_takedown_confirm": {AR: "🗑 احذف", EN: "🗑 Take down"},
    "takedown_running": {AR: "⏳ أحذف من الفهرس…", EN: "⏳ Taking it out of the index…"},
    "takedown_told": {
        AR: "🗑 حذف {who} من الأرشيف:\n{list}",
        EN: "🗑 {who} took down:\n{list}",
    },
    "restore_usage_none": {AR: "لا توجد أخبار محذوفة.", EN: "No articles are taken down."},
    "restore_list": {
        AR: "الأخبار المحذوفة (الأحدث أولاً):\n{list}\n\nللتراجع: /restore ثم المعرّف.",
        EN: "Taken down (newest first):\n{list}\n\nTo undo: /restore followed by the id.",
    },
    "restore_unknown": {AR: "ليس محذوفاً: {targets}", EN: "Not taken down: {targets}"},
    "restore_running": {AR: "⏳ أعيده إلى الفهرس…", EN: "⏳ Putting it back into the index…"},
    "restore_told": {
        AR: "↩️ أعاد {who} إلى الأرشيف:\n{list}",
        EN: "↩️ {who} restored:\n{list}",
    },
    "sources_none": {
        AR: "لا مصادر بعد: لم يُجلب أو يُرفع أو يُنشر شيء.",
        EN: "No sources yet: nothing fetched, uploaded or posted.",
    },
    "sources_never": {AR: "لم تتم بعد", EN: "never"},
    "sources_line": {
        AR: ": {name}\nالأخبار: {articles} · الأحدث: {newest} · بلا رابط: {no_link} · بلا تاريخ: {no_date}\nآخر مزامنة: {sync}",
        EN: ": {name}\nArticles: {articles} · newest: {newest} · no link: {no_link} · no date: {no_date}\nLast sync: {sync}",
    },
    "sources_error": {AR: "\n⚠️ آخر خطأ: {error}", EN: "\n⚠️ Last error: {error}"},
    "source_kind_feed": {AR: "خلاصة", EN: "Feed"},
    "source_kind_sitemap": {AR: "خريطة موقع", EN: "Sitemap"},
    "source_kind_sitemap_index": {AR: "فهرس خرائط موقع", EN: "Sitemap index"},
    "source_kind_listing": {AR: "قائمة روابط", EN: "Listing"},
    "source_kind_url_list": {AR: "قائمة روابط", EN: "URL list"},
    "source_kind_source": {AR: "مصدر", EN: "Source"},
    "source_kind_page": {AR: "صفحات", EN: "Pages"},
    "source_kind_channel": {AR: "قناة", EN: "Channel"},
    "source_kind_uploads": {AR: "ملفات مرفوعة", EN: "Uploads"},
    "source_kind_folder": {AR: "مجلد", EN: "Folder"},
    "source_kind_file": {AR: "ملف", EN: "File"},
}
