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
}
