"""Takedowns in Telegram: /remove previews and confirms, the other admins are told, /restore undoes it; the 🗑 button
under a full passage; buttons on replies sent before a takedown no longer show the article."""

from __future__ import annotations

from index.corpus.removals import read_log
from index.storage.loading import open_index
from tests.support.botkit import ADMIN, READER, buttons, running_bot
from tests.support.corpus import CORPUS, write_jsonl

OTHER_ADMIN = 43
CHESS = "من فازت ببطولة أفريقيا للشطرنج؟"


def ids(settings) -> set[str]:
    return set(open_index(settings.index_dir).article_ids)


async def test_remove_previews_confirms_tells_the_other_admins_and_restore_undoes_it(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, admin_user_ids=[ADMIN, OTHER_ADMIN]) as (fake, app):
        settings = app.bot_data.settings
        fake.message("/start", user_id=OTHER_ADMIN)  # the other admin has a chat with the bot
        await fake.wait_for_messages(1, chat_id=OTHER_ADMIN)
        fake.command("/remove t-chess", user_id=ADMIN)
        (preview,) = await fake.wait_for_messages(1, chat_id=ADMIN, timeout=60)
        chess = next(a for a in CORPUS if a["id"] == "t-chess")
        assert "حذف من الأرشيف" in preview["text"] and chess["title"] in preview["text"] and "t-chess" in preview["text"]
        assert "t-chess" in ids(settings), "nothing happens before the button"
        confirm = next(data for label, data in buttons(preview) if "احذف" in label)
        fake.callback(confirm, message=preview, user_id=READER)  # a reader cannot press it
        await fake.wait_for_call("answerCallbackQuery")
        assert "t-chess" in ids(settings)
        fake.callback(confirm, message=preview, user_id=ADMIN)
        msgs = await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)
        assert "حُذف: 1" in msgs[2]["text"]
        assert "t-chess" not in ids(settings)
        told = await fake.wait_for_messages(2, chat_id=OTHER_ADMIN, timeout=60)
        assert "tg:42" in told[1]["text"] and chess["title"] in told[1]["text"]
        [record] = read_log(settings.articles_dir)
        assert record.by.startswith("tg:42") and record.at
        fake.message(CHESS, user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
        assert chess["title"] not in reply["text"]
        # /restore lists, then undoes
        fake.command("/restore", user_id=ADMIN)
        listed = (await fake.wait_for_messages(4, chat_id=ADMIN, timeout=60))[3]
        assert "t-chess" in listed["text"] and "tg:42" in listed["text"]
        fake.command("/restore t-chess", user_id=ADMIN)
        msgs = await fake.wait_for_messages(6, chat_id=ADMIN, timeout=60)
        assert "أضيف: 1" in msgs[5]["text"] and "t-chess" in ids(settings)


async def test_a_full_passage_shows_admins_a_takedown_button_and_old_buttons_stop_showing_it(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, min_confidence=0.0) as (fake, app):
        fake.message(CHESS, user_id=READER)
        (reader_reply,) = await fake.wait_for_messages(1, chat_id=READER, timeout=60)
        fake.message(CHESS, user_id=ADMIN)
        (admin_reply,) = await fake.wait_for_messages(1, chat_id=ADMIN, timeout=60)
        full = next(data for _, data in buttons(admin_reply) if data.startswith("full:"))
        fake.callback(full, message=admin_reply, user_id=ADMIN)
        passage = (await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60))[1]
        down = next(data for _, data in buttons(passage) if data.startswith("down:"))
        reader_full = next(data for _, data in buttons(reader_reply) if data.startswith("full:"))
        fake.callback(reader_full, message=reader_reply, user_id=READER)
        shown = (await fake.wait_for_messages(2, chat_id=READER, timeout=60))[1]
        assert not any(data.startswith("down:") for _, data in buttons(shown)), "readers get no takedown button"
        fake.callback(down, message=passage, user_id=ADMIN)
        preview = (await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60))[2]
        assert "t-chess" in preview["text"]
        fake.callback(next(d for label, d in buttons(preview) if "احذف" in label), message=preview, user_id=ADMIN)
        await fake.wait_for_messages(5, chat_id=ADMIN, timeout=60)
        assert "t-chess" not in ids(app.bot_data.settings)
        # the reader's reply was sent before the takedown: its full-passage button no longer shows the article
        fake.callback(reader_full, message=reader_reply, user_id=READER)
        await fake.wait_for_call("answerCallbackQuery", 4)
        assert len(fake.messages_to(READER)) == 2, "nothing more was sent to the reader"


async def test_remove_of_an_unknown_id_says_so_and_a_link_not_yet_indexed_is_kept_out(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, app):
        fake.command("/remove no-such-id", user_id=ADMIN)
        (reply,) = await fake.wait_for_messages(1, chat_id=ADMIN, timeout=60)
        assert "لم أجد" in reply["text"] and not buttons(reply)
        fake.command("/remove https://example.org/coming/1", user_id=ADMIN)
        preview = (await fake.wait_for_messages(2, chat_id=ADMIN, timeout=60))[1]
        fake.callback(next(d for label, d in buttons(preview) if "احذف" in label), message=preview, user_id=ADMIN)
        await fake.wait_for_messages(4, chat_id=ADMIN, timeout=60)
        settings = app.bot_data.settings
        write_jsonl(
            settings.articles_dir / "web.jsonl",
            [{"id": "w-1", "title": "خبر قادم", "text": "نص خبر قادم من الموقع.", "url": "https://example.org/coming/1"}],
        )
        await app.bot_data.builds.reindex()
        assert "w-1" not in ids(settings)
        fake.command("/remove t-chess", user_id=READER)
        assert "للمشرفين" in (await fake.wait_for_messages(1, chat_id=READER, timeout=60))[0]["text"]


async def test_a_channel_post_taken_down_by_its_link_stays_out_after_an_edit_and_a_rebuild(tmp_path, embedder):
    from index.build import run_build
    from tests.support.botkit import eventually

    post = "افتتاح متحف للطيران في جدة\nافتتحت هيئة المتاحف متحفاً للطيران في جدة يضم 45 طائرة تاريخية."
    async with running_bot(tmp_path, embedder, index_channels="@gulf_news_ch") as (fake, app):
        feed = app.bot_data.channels
        feed.interval, feed.settle = 0.5, 0.1
        fake.channel_post(-1001234500001, post, username="gulf_news_ch", title="قناة أخبار الخليج")
        await eventually(lambda: feed.updates >= 1, timeout=60)
        settings = app.bot_data.settings
        [post_id] = [i for i in ids(settings) if i.startswith("tg-")]
        fake.command("/remove https://t.me/gulf_news_ch/1", user_id=ADMIN)
        (preview,) = await fake.wait_for_messages(1, chat_id=ADMIN, timeout=60)
        assert post_id in preview["text"]
        fake.callback(next(d for label, d in buttons(preview) if "احذف" in label), message=preview, user_id=ADMIN)
        await fake.wait_for_messages(3, chat_id=ADMIN, timeout=60)
        assert post_id not in ids(settings)
        # the channel edits the post: it is stored again, and still kept out
        fake.channel_post(-1001234500001, post.replace("45", "60"), username="gulf_news_ch", title="ق", edit_of=1)
        await eventually(lambda: feed.updates >= 2, timeout=60)
        assert "60 طائرة" in (settings.articles_dir / "telegram" / "gulf_news_ch.jsonl").read_text(encoding="utf-8")
        assert post_id not in ids(settings)
        await feed.close()
    run_build([settings.articles_dir], settings.index_dir, embedder=embedder, progress=False)  # from scratch
    assert post_id not in ids(settings)
