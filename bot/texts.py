"""Interface texts in Arabic and English, and how the bot picks the reader's language.

Arabic is the default. A reader gets English when the question is mostly in Latin
script, or, for messages with no text of their own (stickers, button presses),
when their Telegram app is set to a non-Arabic language.
"""

from __future__ import annotations

from index.text.arabic import is_mostly_latin

from .desk_texts import DESK_TEXTS

AR, EN = "ar", "en"

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        AR: (
            "أهلاً {name}! 👋\n"
            "أنا بوت يجيب عن أسئلتك من أرشيف الأخبار ({articles} خبراً من مصادر منها {outlets}).\n"
            "أرسل سؤالك وسأعرض لك المقاطع التي تجيب عنه، مع عنوان كل خبر ومصدره وتاريخه ورابطه.\n\n"
            "جرّب مثلاً:\n• {example1}\n• {example2}\n\n"
            "في المجموعات: اذكرني ({mention}) أو استخدم /ask أو ردّ على إحدى رسائلي.\n"
            "المزيد: /help"
        ),
        EN: (
            "Hello {name}! 👋\n"
            "I answer questions from a news archive ({articles} articles, from outlets including {outlets}).\n"
            "Send a question and I will show the passages that answer it, each with its article's title, outlet, date and link.\n\n"
            "Try for example:\n• {example1}\n• {example2}\n\n"
            "In groups: mention me ({mention}), use /ask, or reply to one of my messages.\n"
            "More: /help"
        ),
    },
    "help": {
        AR: (
            "<b>كيف أستخدم البوت؟</b>\n"
            "• اكتب سؤالك بالعربية أو الإنجليزية، مثل: {example1}\n"
            "• /ask سؤالك — يعمل في المحادثات الخاصة والمجموعات\n"
            "• في المجموعات أجيب فقط عند ذكري أو الرد على رسائلي أو عند استخدام /ask\n"
            "• زر «نتائج أخرى» يعرض مصادر إضافية، وزر «المقطع كاملاً» يعرض النص الكامل للمقطع، و👍 / 👎 لتقييم الإجابة\n"
            "• في أي محادثة: اكتب {mention} ثم سؤالك لتختار إجابة وترسلها هناك\n"
            "• يمكنك أن تتابع بسؤال يتصل بسابقه، مثل «ومتى حدث ذلك؟»، وسأبيّن كيف فهمته؛ /new لسؤال جديد لا يتصل بما سبقه "
            "(وفي المجموعات: ردّ على إجابتي لتتابع)\n"
            "• /lang ar أو /lang en لاختيار لغة الواجهة\n\n"
            "أجيب من الأخبار المفهرسة فقط، ولا أؤلف إجابات من عندي."
        ),
        EN: (
            "<b>How to use this bot</b>\n"
            "• Type your question in Arabic or English, e.g. {example1}\n"
            "• /ask your question — works in private chats and groups\n"
            "• In groups I answer only when mentioned, replied to, or on /ask\n"
            "• “More results” shows further sources; “Full passage” shows a passage in full; 👍 / 👎 rate the answer\n"
            "• In any chat: type {mention} and your question, then pick an answer to send there\n"
            '• Follow up on your last question ("and when did that happen?") and I will say how I understood it; /new starts '
            "afresh (in groups: reply to my answer to follow up)\n"
            "• /lang ar or /lang en chooses the interface language\n\n"
            "I answer only from the indexed articles and never make answers up."
        ),
    },
    "admin_help": {
        AR: (
            "\n\n<b>للمشرفين:</b> /reindex لتحديث الفهرس، /stats للإحصاءات، /report لتقرير المحرر، /uploads للملفات المرفوعة، /remove لحذف خبر من الأرشيف و/restore لإعادته، /sources لحال المصادر، وأرسل ملف أخبار (.txt .md .json .jsonl .html) لإضافته."
            "\nأرسل رابط خبر أو خلاصة RSS/Atom أو خريطة موقع (أو /add ثم الروابط) لأجلبه وأضيفه، أو /add ثم نص صفحة الخبر."
        ),
        EN: (
            "\n\n<b>Admins:</b> /reindex updates the index, /stats shows statistics, /report gives the editor's report, /uploads lists uploaded files, /remove takes an article down and /restore puts it back, /sources shows each source's health; send an article file (.txt .md .json .jsonl .html) to add it."
            "\nSend links to articles, RSS/Atom feeds or sitemaps (or /add and the links) to fetch and add them, or /add and a page's text."
        ),
    },
    "answer_label": {AR: "الإجابة", EN: "Answer"},
    "understood_as": {AR: "فهمت سؤالك: {question}", EN: "I took your question as: {question}"},
    "btn_anew": {AR: "🆕 سؤال جديد (دون ما سبقه)", EN: "🆕 New question (without the earlier one)"},
    "new_conversation": {
        AR: "حسناً، صفحة جديدة: سأفهم سؤالك القادم وحده دون ربطه بما سبقه.",
        EN: "OK, a fresh start: I will read your next question on its own, not as a follow-up.",
    },
    "sources": {AR: "المصادر", EN: "Sources"},
    "more_sources": {AR: "مصادر إضافية", EN: "More sources"},
    "read_article": {AR: "اقرأ الخبر", EN: "Read the article"},
    "also_in": {AR: "ورد أيضاً في", EN: "Also in"},
    "untitled": {AR: "(بلا عنوان)", EN: "(untitled)"},
    "btn_more": {AR: "نتائج أخرى ⬅️", EN: "More results ➡️"},
    "btn_full": {AR: "📄 المقطع {n} كاملاً", EN: "📄 Full passage {n}"},
    "full_passage": {AR: "المقطع كاملاً", EN: "Full passage"},
    "no_more": {AR: "لا توجد نتائج أخرى.", EN: "No more results."},
    "expired": {
        AR: "انتهت صلاحية هذه النتائج (تحدّث الفهرس أو مر وقت طويل). أرسل سؤالك مرة أخرى من فضلك.",
        EN: "These results have expired (the index was updated or too much time passed). Please ask again.",
    },
    "no_answer": {
        AR: "لم أجد في الأخبار المتوفرة ما يجيب عن سؤالك. 🤔\nجرّب صياغة أخرى أو كلمات أدق، مثل اسم شخص أو مكان أو حدث.",
        EN: "I could not find anything in the available articles that answers this. 🤔\nTry rephrasing, or use more specific words such as a name, place or event.",
    },
    "empty_question": {
        AR: "اكتب سؤالك بعد الأمر، مثلاً: /ask {example1}",
        EN: "Write your question after the command, e.g. /ask {example1}",
    },
    "too_long": {
        AR: "سؤالك طويل جداً. اختصره في جملة أو جملتين من فضلك.",
        EN: "Your question is too long. Please shorten it to a sentence or two.",
    },
    "not_text": {
        AR: "أستطيع الإجابة عن الأسئلة المكتوبة فقط. اكتب سؤالك نصاً من فضلك. ✍️",
        EN: "I can only answer written questions. Please type your question. ✍️",
    },
    "upload_not_allowed": {
        AR: "إضافة الملفات متاحة للمشرفين فقط. إن كان لديك سؤال فاكتبه نصاً.",
        EN: "Only admins can add files. If you have a question, please type it.",
    },
    "rate_limited": {
        AR: "أرسلت أسئلة كثيرة في وقت قصير. انتظر {seconds} ثانية ثم حاول مجدداً من فضلك.",
        EN: "You have sent many questions in a short time. Please wait {seconds} seconds and try again.",
    },
    "error": {
        AR: "حدث خطأ غير متوقع أثناء معالجة رسالتك. حاول مرة أخرى بعد قليل.",
        EN: "Something went wrong while handling your message. Please try again in a moment.",
    },
    "not_allowed": {AR: "هذا الأمر متاح للمشرفين فقط.", EN: "This command is for admins only."},
    "reindex_started": {
        AR: "بدأ تحديث الفهرس من مجلد الأخبار. سأواصل الإجابة من الفهرس الحالي حتى ينتهي التحديث.",
        EN: "Started updating the index from the articles folder. I keep answering from the current index until it is done.",
    },
    "reindex_waiting": {
        AR: "⏳ يجري بناء للفهرس من سطر الأوامر الآن؛ سأكمل التحديث فور انتهائه (أنتظر حتى {minutes} دقيقة).",
        EN: "⏳ A build started from the command line holds the index; I will update it as soon as that ends (waiting up to {minutes} min).",
    },
    "reindex_gave_up": {
        AR: "❌ لم أحدّث الفهرس: بقي بناء من سطر الأوامر يشغله أكثر من {minutes} دقيقة. الأخبار محفوظة؛ أرسل /reindex لاحقاً.",
        EN: "❌ Index not updated: a build from the command line held it for more than {minutes} min. The articles are saved; send /reindex later.",
    },
    "removal_refused": {
        AR: (
            "⚠️ رفضت تحديث الفهرس: كان سيحذف {removed} من {total} خبراً فيه{folders}. لم يتغير شيء.\n{list}\n"
            "إن كان هذا مقصوداً فأكّد الحذف. وإلا فتأكد أن ARTICLES_DIR هو المجلد الذي بُني منه الفهرس."
        ),
        EN: (
            "⚠️ Update refused: it would remove {removed} of the {total} articles in the index{folders}. Nothing was changed.\n{list}\n"
            "If that is intended, confirm the removal. Otherwise check that ARTICLES_DIR is the folder the index was built from."
        ),
    },
    "removal_folders": {
        AR: "، ومنها كل أخبار مجلد لم يُعطَ للتحديث ({folders})",
        EN: ", among them every article of a folder it was not given ({folders})",
    },
    "btn_confirm_removal": {AR: "🗑 أكّد الحذف وحدّث", EN: "🗑 Confirm and update"},
    "btn_cancel": {AR: "✖️ إلغاء", EN: "✖️ Cancel"},
    "removal_cancelled": {AR: "أُلغي. الفهرس كما هو.", EN: "Cancelled. The index is unchanged."},
    "removal_confirmed": {AR: "⏳ أحدّث الفهرس مع الحذف…", EN: "⏳ Updating the index with the removals…"},
    "upload_no_name": {
        AR: "لهذا الملف اسم غير معروف، فلا أعرف نوعه. أرسله باسم ينتهي بإحدى اللواحق: {types}",
        EN: "This file has no name, so I cannot tell its type. Send it with a name ending in one of: {types}",
    },
    "upload_replaces": {
        AR: "📥 حفظت <code>{name}</code> ({articles} خبر)، ويحل محل الملف السابق بالاسم نفسه (فيه كل أخباره). جارٍ تحديث الفهرس…",
        EN: "📥 Saved <code>{name}</code> ({articles} articles); it replaces the earlier upload of that name (it holds all of its articles). Updating the index…",
    },
    "upload_conflict": {
        AR: (
            "📥 حفظت <code>{name}</code> ({articles} خبر). لكن في ملف سابق بالاسم نفسه {n} خبراً ليست في الملف الجديد:\n{list}\n"
            "أبقيت الملفين الآن (وحيث يتكرر خبر في الملفين تُستخدم النسخة الأحدث). هل أستبدل الملف السابق وأحذف هذه الأخبار؟"
        ),
        EN: (
            "📥 Saved <code>{name}</code> ({articles} articles). An earlier upload of the same name holds {n} article(s) the new file does not:\n{list}\n"
            "Both files are kept for now (where both hold an article, the newer copy is used). Replace the earlier file, removing those articles?"
        ),
    },
    "btn_replace": {AR: "♻️ استبدل السابق", EN: "♻️ Replace the earlier file"},
    "btn_keep_both": {AR: "📚 أبقِ الملفين", EN: "📚 Keep both"},
    "upload_kept_both": {AR: "📚 أبقيت الملفين.", EN: "📚 Both files are kept."},
    "upload_replacing": {AR: "♻️ حذفت الملف السابق. جارٍ تحديث الفهرس…", EN: "♻️ The earlier file is removed. Updating the index…"},
    "uploads_list": {AR: "<b>الملفات المرفوعة</b> ({n}):\n{list}", EN: "<b>Uploaded files</b> ({n}):\n{list}"},
    "uploads_line": {
        AR: "• <code>{name}</code> — {when} · {articles} خبر",
        EN: "• <code>{name}</code> — {when} · {articles} articles",
    },
    "uploads_none": {
        AR: "لا توجد ملفات مرفوعة بعد. أرسل ملف أخبار لإضافته.",
        EN: "No uploads yet. Send an article file to add one.",
    },
    "channel_store_failed": {
        AR: "⚠️ تعذّر حفظ منشورات القناة ({error}). أحتفظ بها في الذاكرة ({n}) وأعيد المحاولة مع كل دفعة؛ إعادة تشغيل البوت تفقدها.",
        EN: "⚠️ Could not save channel posts ({error}). I keep them in memory ({n}) and retry with each batch; a restart of the bot would lose them.",
    },
    "channel_store_recovered": {
        AR: "✅ حُفظت منشورات القناة المعلّقة بعد تعذّر سابق.",
        EN: "✅ The channel posts that could not be saved earlier are now saved.",
    },
    "buttons_limited": {
        AR: "ضغطات كثيرة في وقت قصير. انتظر {seconds} ثانية من فضلك.",
        EN: "Too many presses in a short time. Please wait {seconds} seconds.",
    },
    "reindex_busy": {
        AR: "يجري تحديث الفهرس الآن. سأخبرك عند انتهائه.",
        EN: "An index update is already running. I will tell you when it is done.",
    },
    "reindex_stage": {AR: "⏳ {stage}…", EN: "⏳ {stage}…"},
    "reindex_done": {
        AR: (
            "✅ اكتمل تحديث الفهرس في {seconds:.1f} ث.\n"
            "الأخبار: {articles} · المقاطع: {chunks} · مقاطع جديدة: {encoded}\n"
            "أضيف: {added} · تغيّر: {changed} · حُذف: {removed}{problems}"
        ),
        EN: (
            "✅ Index updated in {seconds:.1f} s.\n"
            "Articles: {articles} · passages: {chunks} · newly embedded: {encoded}\n"
            "Added: {added} · changed: {changed} · removed: {removed}{problems}"
        ),
    },
    "reindex_problems": {AR: "\n⚠️ ملفات أو أسطر تخطّيتها ({n}):\n{list}", EN: "\n⚠️ Skipped files or lines ({n}):\n{list}"},
    "reindex_failed": {
        AR: "❌ تعذّر تحديث الفهرس: {error}\nالفهرس السابق ما زال يعمل.",
        EN: "❌ Index update failed: {error}\nThe previous index is still in use.",
    },
    "stats": {
        AR: (
            "<b>إحصاءات</b>\n"
            "الأخبار: {articles}\nالمقاطع: {chunks}\nالنموذج: <code>{model}</code>\n"
            "آخر بناء: {built_at}\nأسئلة أُجيب عنها: {answered} (بلا إجابة: {refused})\n"
            "زمن البحث: p50 {p50:.0f} مللي ث · p95 {p95:.0f} مللي ث\nتحديث جارٍ: {reindexing}"
        ),
        EN: (
            "<b>Statistics</b>\n"
            "Articles: {articles}\nPassages: {chunks}\nModel: <code>{model}</code>\n"
            "Last build: {built_at}\nQuestions answered: {answered} (no answer: {refused})\n"
            "Search latency: p50 {p50:.0f} ms · p95 {p95:.0f} ms\nUpdate running: {reindexing}"
        ),
    },
    "yes": {AR: "نعم", EN: "yes"},
    "no": {AR: "لا", EN: "no"},
    "upload_too_big": {
        AR: "الملف أكبر من الحد المسموح ({limit} ميغابايت).",
        EN: "The file is larger than the limit ({limit} MB).",
    },
    "upload_bad_type": {
        AR: "نوع الملف غير مدعوم. الأنواع المقبولة: {types}",
        EN: "Unsupported file type. Accepted: {types}",
    },
    "tentative": {
        AR: "لم أجد جواباً مؤكداً، وهذه أقرب المقاطع إلى سؤالك:",
        EN: "I found no sure answer; these are the passages closest to your question:",
    },
    "upload_queued": {
        AR: "⏳ يجري تحديث آخر للفهرس الآن؛ سأضيف هذا الملف فور انتهائه.",
        EN: "⏳ Another index update is running; I will add this file as soon as it ends.",
    },
    "upload_rejected": {AR: "❌ لم أضف الملف: {reason}", EN: "❌ File not added: {reason}"},
    "upload_saved": {
        AR: "📥 حفظت <code>{name}</code> ({articles} خبر). جارٍ تحديث الفهرس…",
        EN: "📥 Saved <code>{name}</code> ({articles} articles). Updating the index…",
    },
    "add_usage": {
        AR: (
            "أرسل بعد /add رابطاً أو أكثر لأخبار أو خلاصات RSS/Atom أو خرائط مواقع، مثلاً:\n"
            "<code>/add https://example.org/news/1.html</code>\n"
            "أو الصق بعد /add نص صفحة الخبر كما نسخته، وسأستخرج الخبر منه."
        ),
        EN: (
            "Send /add followed by one or more links to articles, RSS/Atom feeds or sitemaps, e.g.\n"
            "<code>/add https://example.org/news/1.html</code>\n"
            "or paste the text of a news page after /add and I will extract the article from it."
        ),
    },
    "fetch_started": {AR: "⏳ أجلب {n} رابطاً…", EN: "⏳ Fetching {n} link(s)…"},
    "fetch_busy": {
        AR: "يجري جلب آخر الآن. حاول مرة أخرى بعد قليل.",
        EN: "Another fetch is running. Please try again in a moment.",
    },
    "fetch_done": {
        AR: "✅ انتهى الجلب: أضيف {added} · تغيّر {changed} · تُخطّي {skipped} · تعذّر {failed}",
        EN: "✅ Fetch done: added {added} · changed {changed} · skipped {skipped} · failed {failed}",
    },
    "fetch_titles": {AR: "<b>الأخبار المضافة:</b>", EN: "<b>Articles added:</b>"},
    "fetch_failures": {AR: "<b>لم يُضف:</b>", EN: "<b>Not added:</b>"},
    "fetch_left": {
        AR: "بقي {n} رابطاً سأجلبها في المرة القادمة (FETCH_MAX_PAGES).",
        EN: "{n} link(s) left for the next run (FETCH_MAX_PAGES).",
    },
    "and_more": {AR: "… و{n} غيرها", EN: "… and {n} more"},
    "fetch_indexed": {
        AR: "🔄 حدّثت الفهرس: {articles} خبراً، و{encoded} مقطعاً جديداً، في {seconds:.1f} ث.",
        EN: "🔄 Index updated: {articles} articles, {encoded} new passages, in {seconds:.1f} s.",
    },
    "fetch_index_failed": {
        AR: "⚠️ حُفظت الأخبار لكن تعذّر تحديث الفهرس: {error}\nسيُضاف في التحديث القادم.",
        EN: "⚠️ The articles are saved but the index update failed: {error}\nThe next update will add them.",
    },
    "pasted_saved": {
        AR: "📥 استخرجت {n} خبراً من النص:\n{titles}\nجارٍ تحديث الفهرس…",
        EN: "📥 Extracted {n} article(s) from the text:\n{titles}\nUpdating the index…",
    },
    "pasted_rejected": {AR: "❌ لم أجد خبراً في النص: {reason}", EN: "❌ No article found in the text: {reason}"},
    "pasted_maybe_cut": {
        AR: "ℹ️ يقسم تيليجرام النصوص الطويلة إلى عدة رسائل؛ إن قُطع النص فأرسله ملفاً بصيغة .txt.",
        EN: "ℹ️ Telegram splits long texts into several messages; if yours was cut, send it as a .txt file.",
    },
    "no_index": {
        AR: "الفهرس غير جاهز بعد. يرجى المحاولة لاحقاً.",
        EN: "The index is not ready yet. Please try again later.",
    },
    "vote_recorded": {AR: "شكراً! سُجّل تقييمك لهذه الإجابة.", EN: "Thanks! Your rating of this answer is recorded."},
    "vote_changed": {AR: "غيّرتُ تقييمك لهذه الإجابة.", EN: "Your rating of this answer is changed."},
    "vote_same": {AR: "تقييمك لهذه الإجابة مسجّل من قبل.", EN: "Your rating of this answer was already recorded."},
    "report_title": {AR: "📊 تقرير المحرر", EN: "📊 Editor's report"},
    "report_head": {
        AR: (
            "الأسئلة: {questions} في {days} يوم\n"
            "أُجيب: {answered} ({answered_pct}) · بلا جواب مؤكد: {tentative} ({tentative_pct}) · لم يُعثر على شيء: {nothing} ({nothing_pct})\n"
            "زمن البحث: p50 {p50:.0f} مللي ث · p95 {p95:.0f} مللي ث\n"
            "التقييمات: 👍 {up} · 👎 {down}"
        ),
        EN: (
            "Questions: {questions} over {days} day(s)\n"
            "Answered: {answered} ({answered_pct}) · no sure answer: {tentative} ({tentative_pct}) · nothing found: {nothing} ({nothing_pct})\n"
            "Search latency: p50 {p50:.0f} ms · p95 {p95:.0f} ms\n"
            "Votes: 👍 {up} · 👎 {down}"
        ),
    },
    "report_days": {
        AR: "الأسئلة يومياً (الكل / أُجيب / بلا جواب مؤكد / لا شيء):",
        EN: "Per day (all / answered / no sure answer / nothing found):",
    },
    "report_gaps": {
        AR: "أكثر ما سُئل عنه بلا إجابة (موضوعات تستحق التغطية):",
        EN: "Most asked without an answer (coverage gaps):",
    },
    "report_disliked": {AR: "الإجابات الأكثر تقييماً بـ 👎:", EN: "Most 👎'd answers:"},
    "report_empty": {AR: "لا توجد أسئلة في السجل لهذه الفترة.", EN: "No questions in the log for this period."},
    "report_no_log": {
        AR: "سجل الأسئلة غير مفعّل (QUESTION_LOG)، فلا تقرير.",
        EN: "The question log is off (QUESTION_LOG), so there is no report.",
    },
    "report_usage": {AR: "الاستخدام: /report أو /report 7 (آخر 7 أيام)", EN: "Usage: /report or /report 7 (the last 7 days)"},
    "report_chart": {AR: "الأسئلة يومياً", EN: "Questions per day"},
    "lang_set": {
        AR: "✅ لغة الواجهة الآن العربية. للإنجليزية: /lang en",
        EN: "✅ The interface language is now English. For Arabic: /lang ar",
    },
    "lang_usage": {
        AR: "اختر لغة الواجهة: /lang ar للعربية أو /lang en للإنجليزية.",
        EN: "Choose the interface language: /lang ar for Arabic or /lang en for English.",
    },
    "inline_ask_private": {AR: "اسأل في محادثة خاصة", EN: "Ask in a private chat"},
    "inline_nothing_title": {AR: "لم أجد إجابة في الأخبار", EN: "Nothing found in the articles"},
    "inline_nothing": {
        AR: "لم أجد في الأخبار المتوفرة ما يجيب عن هذا السؤال. جرّب كلمات أدق، مثل اسم شخص أو مكان أو حدث.",
        EN: "Nothing in the available articles answers this question. Try more specific words, such as a name, place or event.",
    },
    "inline_no_index_title": {AR: "الفهرس غير جاهز بعد", EN: "The index is not ready yet"},
}

# The command menus (setMyCommands), per language; admins see ADMIN_COMMANDS too.
COMMANDS: dict[str, list[tuple[str, str]]] = {
    AR: [
        ("start", "البداية وأمثلة للأسئلة"),
        ("help", "كيف أستخدم البوت"),
        ("ask", "اسأل سؤالاً (في المجموعات أيضاً)"),
        ("new", "سؤال جديد لا يتصل بما سبقه"),
        ("lang", "لغة الواجهة: ar أو en"),
    ],
    EN: [
        ("start", "Start, with example questions"),
        ("help", "How to use the bot"),
        ("ask", "Ask a question (works in groups too)"),
        ("new", "A new question, not a follow-up"),
        ("lang", "Interface language: ar or en"),
    ],
}
ADMIN_COMMANDS: dict[str, list[tuple[str, str]]] = {
    AR: [
        ("reindex", "تحديث الفهرس"),
        ("stats", "الإحصاءات"),
        ("add", "إضافة روابط أو نص خبر"),
        ("report", "تقرير المحرر: ما سُئل وما بقي بلا إجابة"),
        ("uploads", "الملفات المرفوعة"),
        ("remove", "حذف خبر من الأرشيف"),
        ("restore", "إعادة خبر محذوف"),
        ("sources", "المصادر: آخر مزامنة وأخطاء ونواقص"),
    ],
    EN: [
        ("reindex", "Update the index"),
        ("stats", "Statistics"),
        ("add", "Add links or a page's text"),
        ("report", "Editor's report: questions and coverage gaps"),
        ("uploads", "Uploaded files"),
        ("remove", "Take an article down"),
        ("restore", "Put a taken-down article back"),
        ("sources", "Sources: last sync, errors, gaps"),
    ],
}

STAGES: dict[str, dict[str, str]] = {
    "reading articles": {AR: "قراءة الأخبار", EN: "reading articles"},
    "chunking": {AR: "تقسيم النصوص إلى مقاطع", EN: "splitting into passages"},
    "embedding": {AR: "حساب التضمينات", EN: "embedding passages"},
    "indexing": {AR: "بناء الفهارس", EN: "building the indexes"},
    "writing": {AR: "حفظ الفهرس الجديد", EN: "saving the new index"},
    "merging": {AR: "دمج أجزاء الفهرس", EN: "merging the index's parts"},
}

EXAMPLES = {
    AR: ("من فاز بالبطولة؟", "كم بلغ سعر النفط؟"),
    EN: ("Who won the championship?", "What was the oil price?"),
}


TEXTS.update(DESK_TEXTS)


def text(key: str, lang: str = AR, **values: object) -> str:
    """The interface text ``key`` in ``lang`` (Arabic when missing), formatted with ``values``."""
    variants = TEXTS[key]
    template = variants.get(lang) or variants[AR]
    return template.format(**values) if values else template


# Why a URL could not be fetched, in Arabic: the reasons come from index.fetch / index.harvest in English.
REASONS_AR: list[tuple[str, str]] = [
    ("HTTP 404", "الصفحة غير موجودة"),
    ("HTTP 4", "رفض الموقع الطلب"),
    ("HTTP 5", "خطأ في خادم الموقع"),
    ("HTTP 429", "الموقع يطلب التمهل"),
    ("disallowed by robots.txt", "يمنع الموقع جلب هذه الصفحة (robots.txt)"),
    ("robots.txt", "تعذّرت قراءة robots.txt للموقع"),
    ("refused:", "عنوان داخلي أو خاص، مرفوض"),
    ("cannot resolve host", "اسم الموقع غير معروف"),
    ("timed out", "انتهت مهلة الانتظار"),
    ("too slow", "الموقع بطيء جداً"),
    ("connection failed", "تعذّر الاتصال بالموقع"),
    ("too large", "الصفحة أكبر من الحد المسموح"),
    ("larger than", "الصفحة أكبر من الحد المسموح"),
    ("redirect loop", "تحويل دائري"),
    ("more than 5 redirects", "تحويلات كثيرة جداً"),
    ("only http and https", "يُقبل http وhttps فقط"),
    ("invalid URL", "رابط غير صالح"),
    ("not an http(s) URL", "ليس رابط http(s)"),
    ("no article text", "لا يوجد نص خبر في الصفحة"),
    ("not a web page, feed or sitemap", "ليست صفحة ولا خلاصة ولا خريطة موقع"),
    ("not an article page", "ليست صفحة خبر"),
    ("malformed feed XML", "خلاصة معطوبة"),
    ("malformed sitemap XML", "خريطة موقع معطوبة"),
]


def reason_text(reason: str, lang: str) -> str:
    """A fetch failure's reason for the admin: Arabic gist first, the technical detail after it."""
    if lang != AR:
        return reason
    for key, arabic in REASONS_AR:
        if reason.startswith(key) or (key in reason and not key.startswith("HTTP")):
            return f"{arabic} ({reason})"
    return reason


def stage_text(stage: str, lang: str) -> str:
    """Translate a builder stage note ("embedding 120 chunks") for progress messages."""
    for key, names in STAGES.items():
        if stage.startswith(key):
            return names.get(lang, names[AR]) + stage[len(key) :]
    return stage


def language_for(question: str | None, language_code: str | None = None) -> str:
    """English for Latin-script questions; otherwise Arabic, unless there is no text and the app is not Arabic."""
    if question and question.strip():
        return EN if is_mostly_latin(question) else AR
    if language_code and not language_code.lower().startswith("ar"):
        return EN
    return AR
