"""kb.text: normalisation and the tokenizer."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kb import text
from kb.text import analyzer, normalize, normalize_with_map

SEARCH_LIBRARY = Path(__file__).parent / "fixtures" / "search_library"
ROOT = Path(__file__).resolve().parent.parent


def test_normalize_width_symbols_case_and_traditional():
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("９５％") == "95%"
    assert normalize("≥95% >=95% ＞＝95") == "≥95% ≥95% ≥95"
    assert normalize("<=5 ≦5") == "≤5 ≤5"
    assert normalize("（DDDs）") == "(ddds)"
    assert normalize("門診病人滿意度") == "门诊病人满意度"
    assert normalize("醫療護理藥品手術") == "医疗护理药品手术"
    assert normalize("") == ""


def test_normalizing_simplified_text_changes_nothing_and_is_idempotent():
    names = []
    for path in SEARCH_LIBRARY.rglob("*.yaml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("indicators", []):
            names += [item["name"], item.get("definition", "")]
    def han(s):
        return [ch for ch in s if "\u4e00" <= ch <= "\u9fff"]

    for name in names:
        assert han(normalize(name)) == han(name), name
        assert normalize(normalize(name)) == normalize(name)
    # no simplified character is itself mapped again
    assert not set(text.T2S.values()) & set(text.T2S)


def _nfkc_reference(s: str) -> str:
    """The plain definition the fast normalize must agree with."""
    import unicodedata

    s = unicodedata.normalize("NFKC", s)
    for old, new in text._SYMBOLS:
        s = s.replace(old, new)
    return s.lower().translate(text._T2S_TABLE)


def test_fast_normalize_equals_plain_nfkc_lower_and_traditional():
    import random

    # every BMP character alone, then mixes of the characters the shortcuts
    # treat specially (full width, combining marks that compose with what the
    # full-width ones become, compatibility ideographs, Hangul jamo)
    for cp in range(0x10000):
        if not 0xD800 <= cp <= 0xDFFF:
            assert normalize(chr(cp)) == _nfkc_reference(chr(cp)), hex(cp)
    pool = ([chr(c) for c in range(0x21, 0x7F)] + [chr(c) for c in range(0xFF01, 0xFF5F)]
            + list("\u3000\u0301\u0308\u3099\u309a\u1100\u1161\u11a8\uf900\u2460\u33a1\u2103门診≧≦>=<=，。"))
    rng = random.Random(7)
    for _ in range(20000):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(1, 10)))
        assert normalize(s) == _nfkc_reference(s), repr(s)


def test_normalize_with_map_points_back_at_the_original():
    norm, where = normalize_with_map("A>=B門")
    assert norm == "a≥b门"
    assert [("A>=B門")[i] for i in where] == ["A", ">", "B", "門"]


def test_search_mode_tokens_cover_the_parts_of_a_known_word():
    an = analyzer()
    an.add_words(["资金到位率"])
    tokens = an.tokens("资金到位率")
    assert tokens[-1] == "资金到位率"
    assert {"资金", "到位", "到位率"} <= set(tokens)


def test_tokens_drop_stop_words_and_punctuation_and_split_codes():
    an = analyzer()
    tokens = an.tokens("医院的门诊和住院：“满意度”！YY3-054")
    assert "的" not in tokens and "和" not in tokens
    assert not any(t in tokens for t in ("：", "“", "”", "！", "-"))
    assert tokens[-3:] == ["yy3", "054", "yy3-054"]
    assert an.tokens("") == [] and an.tokens("？？ ！！") == []


def test_operators_and_fields_are_plain_words():
    words = analyzer().words('"资金" AND (到位) OR name:门诊 NOT')
    assert words == ["资金", "and", "到位", "or", "name", "门诊", "not"]


def test_stop_list_is_the_data_file():
    stop = text.stopwords()
    assert {"的", "和", "与"} <= stop
    assert "满意度" not in stop


def test_missing_word_files_are_empty_lists(tmp_path):
    assert text._read_words(tmp_path / "absent.txt") == []
    (tmp_path / "terms.txt").write_text("# comment\n資金到位\n\n四级手术  # inline\n", encoding="utf-8")
    assert text._read_words(tmp_path / "terms.txt") == ["资金到位", "四级手术"]


def _sample_texts() -> list[str]:
    out = []
    for path in sorted(SEARCH_LIBRARY.rglob("*.yaml")) + sorted((ROOT / "tests" / "fixtures" / "library").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in doc.get("indicators", []) or []:
            out += [item.get("name", ""), item.get("definition", ""), item.get("formula", "")]
    out += [
        "考核年度门诊患者人次数与同期出院患者人次数之比，反映医院功能定位及分级诊疗制度落实情况。",
        "项目资金使用是否符合相关的财务管理制度规定，用以反映和考核项目资金的规范运行情况。",
        "参加培训的人员人次数，培训班按期举办率不低于95%。",
        "高标准农田建设验收合格率", "农村饮水工程受益人口", "义务教育阶段学生资助覆盖率",
        "病人满意", "四级手术", "抗菌药物使用强度", "门诊患者满意度调查得分",
    ]
    return [t for t in out if t]


def test_jieba_and_rjieba_agree(tmp_path):
    pytest.importorskip("rjieba")
    # in a fresh process, as a worker starts: both dictionaries get the same
    # words in the same order
    samples = _sample_texts()
    assert len(samples) > 40
    (tmp_path / "samples.json").write_text(json.dumps(samples, ensure_ascii=False), encoding="utf-8")
    code = (
        "import json, sys; from kb.text import Analyzer; "
        "words = ['资金到位率', '门诊患者满意度', '出院患者四级手术比例', '抗菌药物使用强度', '学生资助覆盖率']; "
        "j, r = Analyzer(backend='jieba'), Analyzer(backend='rjieba'); j.add_words(words); r.add_words(words); "
        f"samples = json.load(open({str(tmp_path / 'samples.json')!r}, encoding='utf-8')); "
        "bad = [s for s in samples if j.tokens(s) != r.tokens(s) or j.words(s) != r.words(s)]; "
        "print(json.dumps({'checked': len(samples), 'differ': bad}, ensure_ascii=False))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["checked"] == len(samples)
    assert report["differ"] == []


def test_jieba_cache_goes_to_the_data_folder(tmp_path):
    # a fresh process, since jieba's dictionary is loaded once per process
    code = (
        "from pathlib import Path; from kb.text import Analyzer; "
        f"a = Analyzer(backend='jieba', cache_dir=Path({str(tmp_path / 'jieba')!r})); "
        "print(a.tokens('资金到位率'))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "jieba").glob("*.cache")), "jieba's cache was not written into the data folder"
    assert "资金" in proc.stdout


def test_analyzer_is_built_once_per_process():
    assert analyzer() is analyzer()
