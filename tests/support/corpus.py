"""The test corpus and the small helpers around it: six short Arabic news items written for the tests, JSONL
files of them, the shared development data when it is there (tests skip without it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))
SAMPLES = ROOT / "samples" / "articles"

# Six short news items written for these tests; each has one clear topic.
CORPUS = [
    {
        "id": "t-hospital",
        "title": "افتتاح مستشفى متخصص لعلاج السرطان في الدمام",
        "url": "https://example.org/t/hospital",
        "date": "2026-03-01",
        "source": "صحيفة الاختبار",
        "text": "افتتح أمير المنطقة الشرقية مستشفى متخصصاً في علاج السرطان بمدينة الدمام بسعة 300 سرير. "
        "ويضم المستشفى مركزاً للعلاج الإشعاعي ووحدة لزراعة نخاع العظم.\n\n"
        "وقال مدير المستشفى إن المرضى لن يحتاجوا بعد اليوم إلى السفر إلى الرياض لتلقي العلاج الكيميائي.",
    },
    {
        "id": "t-camels",
        "title": "مهرجان الإبل يجذب آلاف الزوار في الصحراء",
        "url": "https://example.org/t/camels",
        "date": "2026-01-15",
        "source": "صحيفة الاختبار",
        "text": "انطلق مهرجان الملك عبدالعزيز للإبل في صحراء الصياهد بمشاركة أكثر من 40 ألف ناقة. "
        "وتبلغ قيمة الجوائز المخصصة لمسابقات جمال الإبل 250 مليون ريال.\n\n"
        "ويشهد المهرجان سباقات للهجن وعروضاً تراثية وسوقاً للمنتجات الشعبية.",
    },
    {
        "id": "t-flood",
        "title": "فيضانات في السودان تشرد آلاف الأسر",
        "url": "https://example.org/t/flood",
        "date": "2026-08-20",
        "source": "وكالة الاختبار",
        "text": "تسببت الأمطار الغزيرة في فيضان نهر النيل وغرق قرى عدة في ولاية نهر النيل شمال السودان. "
        "وأعلنت السلطات أن أكثر من 5 آلاف أسرة فقدت منازلها، وأن فرق الإنقاذ تعمل على إجلاء السكان.\n\n"
        "وناشدت منظمات الإغاثة المجتمع الدولي تقديم الخيام والغذاء والدواء للمتضررين.",
    },
    {
        "id": "t-chess",
        "title": "لاعبة مصرية تفوز ببطولة أفريقيا للشطرنج",
        "url": "",
        "date": "2026-05-09",
        "source": "الملحق الرياضي",
        "text": "فازت لاعبة الشطرنج المصرية سلمى عبد الرحمن ببطولة أفريقيا للسيدات التي أقيمت في تونس، "
        "بعد أن جمعت 8 نقاط من 9 جولات دون أي خسارة.\n\n"
        "وبهذا الفوز تتأهل اللاعبة البالغة من العمر 19 عاماً إلى كأس العالم للشطرنج العام المقبل.",
    },
    {
        "id": "t-train",
        "title": "قطار الحرمين يرفع عدد رحلاته في موسم العمرة",
        "url": "https://example.org/t/train",
        "date": "2026-02-10",
        "source": "وكالة الاختبار",
        "text": "أعلنت المؤسسة العامة للخطوط الحديدية زيادة رحلات قطار الحرمين السريع بين مكة المكرمة والمدينة المنورة "
        "إلى 120 رحلة يومياً خلال شهر رمضان. وتستغرق الرحلة بين المدينتين ساعتين و20 دقيقة بسرعة تصل إلى 300 كيلومتر في الساعة.",
    },
    {
        "id": "t-coffee",
        "title": "ارتفاع أسعار البن عالمياً يرفع كلفة القهوة في المقاهي",
        "url": "https://example.org/t/coffee",
        "date": "2026-09-30",
        "source": "نشرة الاقتصاد",
        "text": "ارتفعت أسعار حبوب البن في الأسواق العالمية بنسبة 35 في المئة خلال عام بسبب الجفاف في البرازيل وفيتنام. "
        "واضطرت مقاهٍ كثيرة في عمّان وبيروت إلى رفع سعر فنجان القهوة.\n\n"
        "ويتوقع تجار أن تستمر الأسعار مرتفعة حتى موسم الحصاد المقبل.",
    },
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


class CountingEmbedder:
    """Wraps an embedder and records every passage it is asked to encode."""

    def __init__(self, inner):
        self.inner = inner
        self.encoded: list[str] = []
        self.name = inner.name
        self.query_prompt = inner.query_prompt
        self.passage_prompt = inner.passage_prompt

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode_passages(self, texts, progress=False):
        self.encoded.extend(texts)
        return self.inner.encode_passages(texts)

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)


def need_shared(*parts: str) -> Path:
    """Path inside ../shared/data, or skip the test when the shared data is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path
