"""Chinese text for search: normalisation and the tokenizer.

Indexing and querying go through the same two steps, so a query matches
whatever the index holds:

1. `normalize`: full-width → half-width (NFKC), ％ → %, >= → ≥, <= → ≤, common
   traditional characters → simplified, Latin lower-cased.
2. `Analyzer.tokens`: jieba in search mode over the runs of Chinese
   characters (rjieba, the jieba-rs binding, when installed: same dictionary,
   same tokens, several times faster), Latin/digit runs split by a regular
   expression, punctuation and the domain stop list dropped. The list order is
   the token position: positions are consecutive, so phrase matching works on
   any engine fed these tokens.

The stop list and the domain terms are plain data files (indicators/text/),
so an Elasticsearch/IK deployment can be fed the same analysis.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from kb.paths import INDICATORS_DIR

TEXT_DIR = INDICATORS_DIR / "text"
STOPWORDS_FILE = TEXT_DIR / "stopwords.txt"
TERMS_FILE = TEXT_DIR / "terms.txt"
# Bump when tokenization changes in a way that makes old indexes wrong.
ANALYZER_VERSION = "1"

# --- normalisation -------------------------------------------------------------------

# Common traditional → simplified characters, as pairs. Only characters that
# are never correct in simplified text are listed (著, 乾, 藉, 瞭 … are left
# alone), so normalising simplified text never changes it.
_T2S_PAIRS = """
愛爱 礙碍 襖袄 罷罢 擺摆 敗败 頒颁 辦办 幫帮 綁绑 寶宝 飽饱 報报 鮑鲍 輩辈 貝贝 備备 筆笔 畢毕 幣币
閉闭 邊边 編编 變变 標标 錶表 別别 賓宾 餅饼 撥拨 補补 財财 採采 參参 蠶蚕 殘残 慚惭 倉仓 艙舱 層层
廠厂 產产 長长 場场 嘗尝 腸肠 償偿 車车 徹彻 陳陈 塵尘 稱称 懲惩 誠诚 遲迟 齒齿 衝冲 蟲虫 籌筹 醜丑
處处 觸触 傳传 創创 純纯 詞词 辭辞 從从 叢丛 湊凑 錯错 達达 帶带 貸贷 單单 擔担 膽胆 彈弹 當当 黨党
檔档 導导 燈灯 鄧邓 遞递 點点 電电 墊垫 調调 釣钓 頂顶 訂订 東东 動动 凍冻 鬥斗 獨独 讀读 賭赌 鍛锻
斷断 隊队 對对 噸吨 奪夺 墮堕 額额 兒儿 爾尔 發发 罰罚 閥阀 範范 飯饭 訪访 紡纺 飛飞 廢废 費费 紛纷
墳坟 奮奋 憤愤 糞粪 豐丰 風风 楓枫 鳳凤 膚肤 婦妇 輔辅 負负 復复 複复 該该 蓋盖 趕赶 幹干 剛刚 鋼钢
崗岗 綱纲 個个 給给 鞏巩 貢贡 溝沟 構构 購购 穀谷 顧顾 颳刮 關关 觀观 館馆 慣惯 貫贯 廣广 規规 櫃柜
貴贵 歸归 國国 過过 還还 漢汉 號号 賀贺 後后 畫画 話话 劃划 華华 懷怀 壞坏 歡欢 環环 換换 黃黄 揮挥
輝辉 會会 匯汇 彙汇 繪绘 誨诲 獲获 貨货 禍祸 機机 積积 擊击 績绩 極极 際际 濟济 計计 記记 紀纪 繼继
價价 駕驾 間间 簡简 見见 檢检 減减 艦舰 劍剑 薦荐 鑑鉴 鑒鉴 將将 獎奖 講讲 醬酱 膠胶 澆浇 驕骄 腳脚
餃饺 較较 階阶 節节 結结 潔洁 屆届 緊紧 僅仅 進进 盡尽 勁劲 經经 驚惊 靜静 競竞 鏡镜 糾纠 舊旧 舉举
據据 劇剧 懼惧 鋸锯 捲卷 絕绝 覺觉 軍军 開开 凱凯 殼壳 課课 懇恳 庫库 褲裤 誇夸 塊块 寬宽 礦矿 虧亏
擴扩 闊阔 蠟蜡 來来 欄栏 藍蓝 籃篮 覽览 懶懒 爛烂 勞劳 樂乐 類类 淚泪 壘垒 離离 禮礼 裏里 裡里 歷历
曆历 麗丽 勵励 厲厉 聯联 連连 憐怜 簾帘 臉脸 練练 煉炼 糧粮 兩两 輛辆 諒谅 療疗 遼辽 獵猎 臨临 鄰邻
靈灵 齡龄 領领 劉刘 龍龙 樓楼 爐炉 陸陆 錄录 驢驴 亂乱 輪轮 論论 羅罗 邏逻 鑼锣 馬马 碼码 媽妈 嗎吗
買买 賣卖 麥麦 滿满 蠻蛮 貓猫 貿贸 麼么 沒没 門门 們们 夢梦 彌弥 謎谜 綿绵 麵面 廟庙 滅灭 憫悯 閩闽
鳴鸣 銘铭 謀谋 畝亩 納纳 難难 腦脑 鬧闹 內内 擬拟 膩腻 釀酿 鳥鸟 寧宁 濃浓 農农 諾诺 歐欧 盤盘 賠赔
噴喷 鵬鹏 騙骗 飄飘 頻频 貧贫 蘋苹 評评 憑凭 撲扑 僕仆 樸朴 舖铺 鋪铺 齊齐 騎骑 豈岂 啟启 氣气 棄弃
遷迁 錢钱 簽签 籤签 牆墙 槍枪 搶抢 橋桥 僑侨 竅窍 親亲 輕轻 慶庆 窮穷 區区 驅驱 軀躯 趨趋 權权 勸劝
確确 讓让 饒饶 擾扰 熱热 認认 榮荣 軟软 潤润 灑洒 賽赛 傘伞 喪丧 掃扫 殺杀 紗纱 曬晒 閃闪 陝陕 傷伤
賞赏 燒烧 紹绍 設设 攝摄 審审 腎肾 聲声 繩绳 勝胜 聖圣 師师 詩诗 濕湿 實实 識识 時时 蝕蚀 試试 視视
適适 勢势 釋释 飾饰 壽寿 獸兽 書书 屬属 數数 樹树 術术 帥帅 雙双 誰谁 稅税 順顺 說说 碩硕 絲丝 飼饲
鬆松 聳耸 訟讼 頌颂 訴诉 肅肃 雖虽 隨随 歲岁 孫孙 損损 筍笋 縮缩 瑣琐 鎖锁 臺台 颱台 檯台 態态 攤摊
談谈 壇坛 歎叹 湯汤 燙烫 濤涛 討讨 騰腾 題题 體体 條条 鐵铁 廳厅 聽听 頭头 圖图 團团 塗涂 襪袜 彎弯
灣湾 頑顽 萬万 網网 韋韦 違违 圍围 為为 爲为 偽伪 緯纬 衛卫 穩稳 問问 聞闻 臥卧 烏乌 誣诬 無无 務务
霧雾 誤误 習习 係系 繫系 戲戏 細细 蝦虾 嚇吓 鮮鲜 纖纤 閒闲 賢贤 險险 顯显 縣县 憲宪 現现 線线 鄉乡
詳详 響响 項项 蕭萧 銷销 曉晓 嘯啸 協协 脅胁 寫写 謝谢 興兴 選选 學学 尋寻 詢询 訓训 訊讯 遜逊 壓压
鴉鸦 啞哑 亞亚 訝讶 煙烟 鹽盐 嚴严 顏颜 厭厌 艷艳 驗验 諺谚 陽阳 養养 樣样 楊杨 揚扬 搖摇 遙遥 謠谣
葉叶 頁页 業业 醫医 儀仪 遺遗 億亿 藝艺 議议 義义 異异 譯译 陰阴 銀银 飲饮 隱隐 應应 營营 贏赢 擁拥
傭佣 詠咏 優优 憂忧 郵邮 猶犹 遊游 誘诱 餘余 魚鱼 漁渔 與与 語语 獄狱 預预 禦御 譽誉 淵渊 園园 員员
圓圆 緣缘 遠远 願愿 約约 躍跃 閱阅 雲云 運运 韻韵 雜杂 災灾 載载 暫暂 贊赞 髒脏 臟脏 鑿凿 棗枣 責责
擇择 則则 澤泽 賊贼 贈赠 紮扎 閘闸 詐诈 齋斋 債债 氈毡 盞盏 嶄崭 戰战 張张 漲涨 帳帐 賬账 脹胀 趙赵
這这 針针 偵侦 診诊 陣阵 鎮镇 爭争 證证 掙挣 睜睁 織织 職职 執执 紙纸 製制 質质 滯滞 鐘钟 鍾钟 終终
種种 腫肿 眾众 衆众 週周 晝昼 豬猪 諸诸 燭烛 囑嘱 築筑 註注 鑄铸 專专 磚砖 轉转 賺赚 樁桩 莊庄 裝装
壯壮 狀状 準准 濁浊 資资 漬渍 蹤踪 總总 縱纵 鄒邹 組组 鑽钻 級级 統统 決决 癒愈 劑剂 嬰婴 貼贴 綠绿
汙污 淨净 儲储 輸输 維维 絡络 監监 殯殡 撫抚 卹恤 託托 篩筛 測测 鏈链 脈脉 掛挂 併并 於于 幾几 強强
紅红 請请 謂谓 續续 駐驻 駛驶 鍋锅 閣阁 雞鸡 須须 髮发 龜龟 傑杰 兌兑 冊册 剝剥 卻却 吳吴 喚唤
堅坚 壩坝 夠够 嶺岭 峽峡 巖岩 徑径 徵征 戶户 斂敛 斬斩 昇升 晉晋 棟栋 樞枢 橫横 毀毁 況况 淺浅 渦涡
溫温 滲渗 濱滨 瀉泻 灘滩 獻献 睏困 矯矫 礎础 綜综 緒绪 締缔 緩缓 繳缴 聰聪 脫脱 艱艰 蔣蒋 蘇苏 蘭兰
襲袭 許许 誌志 諮咨 販贩 賦赋 跡迹 踐践 軌轨 轄辖 鍵键 闡阐 隸隶 佈布 佔占 倆俩 倫伦 偉伟 側侧 傾倾
僱雇 儉俭 兇凶 勻匀 奧奥 宮宫 廈厦 彥彦 悅悦 惡恶 惱恼 慮虑 憶忆 戀恋 拋抛 挾挟 捨舍 揀拣 撐撑 擠挤
攔拦 敵敌 暈晕 暢畅 棲栖 槓杠 橢椭 櫥橱 殲歼 氫氢 沖冲 洩泄 涼凉 漸渐 潛潜 澀涩 濾滤 瀏浏 燉炖 爺爷
牽牵 犧牺 狹狭 瑪玛 璽玺 甦苏 癮瘾 癱瘫 盜盗 盧卢 禪禅 稈秆 窩窝 竊窃 粵粤 紋纹 紐纽 絨绒 綢绸 綴缀
緻致 縫缝 繃绷 繞绕 繡绣 纏缠 罵骂 翹翘 蒼苍 蔔卜 蕩荡 薑姜 蘆芦 蠅蝇 襯衬 誕诞 謊谎 謹谨 譜谱 譴谴
賄贿 賴赖 贓赃 贖赎 軒轩 軸轴 轎轿 辯辩 邁迈 鄭郑 醞酝 鈔钞 鈴铃 鉛铅 銅铜 鋁铝 鋒锋 錦锦 鎊镑 鑰钥
闖闯 隻只 靂雳 韌韧 韓韩 頗颇 頸颈 顆颗 顫颤 颶飓 餵喂 餓饿 饅馒 騷骚 驟骤 鬍胡 鬱郁 鴨鸭 鵝鹅 鶴鹤
鷹鹰 黴霉 釐厘 傢家 啓启 麪面 護护 藥药 鹼碱 癥症 痺痹 儘尽 纔才 匱匮 薈荟 塢坞 譁哗 鐲镯 瀰弥
齣出 噁恶 濫滥 罈坛 蓮莲 蠔蚝 諧谐 輻辐 閏闰 陘陉 隴陇 顱颅 驥骥 骯肮 鬢鬓 魯鲁 鯉鲤 鱗鳞
"""
T2S = {pair[0]: pair[1] for pair in _T2S_PAIRS.split()}
_T2S_TABLE = str.maketrans(T2S)
_FULL_WIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")


def _half_width(match: re.Match) -> str:
    ch = match.group()
    return " " if ch == "\u3000" else chr(ord(ch) - 0xFEE0)


# translate() looks up every character in a dict: ten times slower than first
# asking whether there is anything to translate
_T2S_RE = re.compile("[" + "".join(re.escape(ch) for ch in T2S) + "]")
_SYMBOLS = (("≧", "≥"), ("≦", "≤"), (">=", "≥"), ("<=", "≤"), ("=>", "≥"), ("=<", "≤"))


def normalize(text: str) -> str:
    """The form in which text is indexed and queried."""
    if not text:
        return ""
    # Chinese text is rarely NFKC-normal only because of its full-width
    # punctuation (，（）：％); mapping those first (exactly what NFKC maps them
    # to) usually leaves normal text, and the check is a hundred times cheaper
    # than NFKC itself
    if _FULL_WIDTH_RE.search(text):
        text = _FULL_WIDTH_RE.sub(_half_width, text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    for old, new in _SYMBOLS:
        if old in text:
            text = text.replace(old, new)
    text = text.lower()
    return text.translate(_T2S_TABLE) if _T2S_RE.search(text) else text


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """`normalize(text)` and, for each of its characters, the index of the
    original character it came from (for highlighting the original text)."""
    fast = normalize(text)
    if len(fast) == len(text):  # the usual case: one character for one
        return fast, list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in (">=", "<=", "=>", "=<"):
            out.append(normalize(pair))
            where.append(i)
            i += 2
            continue
        for ch in normalize(text[i]):
            out.append(ch)
            where.append(i)
        i += 1
    return "".join(out), where


# --- data files ------------------------------------------------------------------------

def _read_words(path: Path) -> list[str]:
    """One word a line; '#' starts a comment. A missing file is an empty list:
    the data files are being written by others and may not exist yet."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return []
    words = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(normalize(line))
    return words


@lru_cache(maxsize=None)
def stopwords(path: Path = STOPWORDS_FILE) -> frozenset[str]:
    return frozenset(_read_words(path))


@lru_cache(maxsize=None)
def domain_terms(path: Path = TERMS_FILE) -> tuple[str, ...]:
    return tuple(_read_words(path))


@lru_cache(maxsize=1)
def analyzer_fingerprint() -> str:
    """Changes whenever tokens would change: the code's version, the stop list,
    the domain terms and the character table. Part of every index's key."""
    h = hashlib.sha256(ANALYZER_VERSION.encode())
    for part in (sorted(stopwords()), domain_terms(), sorted(T2S.items())):
        h.update(repr(part).encode())
    return h.hexdigest()[:16]


# --- tokenizer -------------------------------------------------------------------------

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Runs of Chinese characters, and Latin/digit words that may be joined by
# - . / _ (codes such as yy3-054, decimals such as 2.5).
_RUN_RE = re.compile(rf"([{_HAN}]+)|([a-z0-9]+(?:[-./_][a-z0-9]+)*)")
_HAN_RE = re.compile(rf"[{_HAN}]+")
_PART_RE = re.compile(r"[a-z0-9]+")


_ADDED: dict[str, set[str]] = {}
_ADD_LOCK = threading.Lock()


class Analyzer:
    """The tokenizer of one process: jieba's dictionary plus the user words
    added so far. Get it with `analyzer()`; it is built once per process."""

    def __init__(self, backend: str | None = None, cache_dir: Path | None = None):
        self.backend = backend or _default_backend()
        self._lock = _ADD_LOCK
        # jieba's and rjieba's dictionaries are global to the process, and
        # adding a word twice changes its weight: remember per backend
        self._added: set[str] = _ADDED.setdefault(self.backend, set())
        self.stop = stopwords()
        if self.backend == "rjieba":
            import rjieba

            self._cut = lambda s: rjieba.cut(s, True)
            self._cut_for_search = lambda s: rjieba.cut_for_search(s, True)
            self._add = lambda w: rjieba.add_word(w, None, None)
        else:
            self._jieba = _init_jieba(cache_dir)
            self._cut = lambda s: self._jieba.lcut(s, HMM=True)
            self._cut_for_search = lambda s: self._jieba.lcut_for_search(s, HMM=True)
            self._add = self._jieba.add_word
        self.add_words(domain_terms())

    # user dictionary

    def add_words(self, words: Iterable[str]) -> int:
        """Add words to the dictionary (idempotent); returns how many were new.
        Only runs of Chinese characters are words to jieba."""
        new = []
        for word in words:
            for run in _HAN_RE.findall(normalize(word)):
                if 2 <= len(run) <= 24 and run not in self._added:
                    new.append(run)
        if not new:
            return 0
        with self._lock:
            for run in new:
                if run not in self._added:
                    self._add(run)
                    self._added.add(run)
        return len(new)

    # tokens

    def tokens(self, text: str, normalized: bool = False, runs: dict[str, list[str]] | None = None) -> list[str]:
        """Search-mode tokens in order (the list index is the position):
        资金到位率 → 资金, 到位, 到位率, 资金到位率.

        `runs` remembers the tokens of each run of Chinese characters (see
        `CachedTokens`): valid only while no word is added to the dictionary."""
        if not normalized:
            text = normalize(text)
        out: list[str] = []
        stop = self.stop
        for han, latin in _RUN_RE.findall(text):
            if han:
                if runs is None:
                    out.extend(t for t in self._cut_for_search(han) if t not in stop)
                    continue
                cut = runs.get(han)
                if cut is None:
                    cut = runs[han] = [t for t in self._cut_for_search(han) if t not in stop]
                out.extend(cut)
            elif latin:
                out.extend(_latin_tokens(latin))
        return out

    def words(self, text: str, normalized: bool = False) -> list[str]:
        """Precise-mode words (what a query is made of), stop words dropped."""
        if not normalized:
            text = normalize(text)
        out: list[str] = []
        for han, latin in _RUN_RE.findall(text):
            if han:
                out.extend(w for w in self._cut(han) if w not in self.stop)
            elif latin:
                out.append(latin)
        return out

    def parts(self, word: str) -> list[str]:
        """The smaller tokens search mode finds inside one word (without the
        word itself): 到位率 → 到位; yy3-054 → yy3, 054."""
        return [t for t in self.tokens(word, normalized=True) if t != word]


class CachedTokens:
    """`Analyzer.tokens` for one index build, remembering the tokens of each
    distinct short text and of each run of Chinese characters: a library
    repeats its levels, taxonomy names and phrases thousands of times (50,000
    indicators: 390,000 texts, 93,000 distinct; 650,000 runs, 78,000
    distinct). Longer texts (definitions) are rarely repeated whole: only
    their runs are remembered. Valid only while no word is added to the
    dictionary; every call returns a new list."""

    SHORT = 40  # characters: names, levels, keyword lists, taxonomy names

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer
        self._texts: dict[str, list[str]] = {}
        self._runs: dict[str, list[str]] = {}

    def _tokens(self, text: str) -> list[str]:
        found = self._texts.get(text)
        if found is None:
            found = self.analyzer.tokens(text, runs=self._runs)
            if len(text) <= self.SHORT:
                self._texts[text] = found
        return found

    def tokens(self, text: str) -> list[str]:
        return list(self._tokens(text))

    def extend(self, out: list[str], text: str) -> None:
        """`out.extend(self.tokens(text))` without the copy."""
        out.extend(self._tokens(text))


def _latin_tokens(run: str) -> list[str]:
    parts = _PART_RE.findall(run)
    return parts if len(parts) == 1 else parts + [run]


def _default_backend() -> str:
    wanted = os.environ.get("ZHIBIAO_TOKENIZER", "").strip().lower()
    if wanted in ("jieba", "rjieba"):
        return wanted
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return "jieba"
    return "rjieba"


def _init_jieba(cache_dir: Path | None):
    """jieba with its dictionary cache in our data folder instead of a shared
    file in /tmp (permission errors and races between workers)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache_dir)
    jieba.dt.initialize()
    return jieba.dt


_analyzer: Analyzer | None = None
_analyzer_lock = threading.Lock()


def analyzer(data_dir: Path | str | None = None) -> Analyzer:
    """The process's analyzer, built on first use (jieba's cache goes to
    DATA_DIR/jieba when jieba is the backend)."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                cache = Path(data_dir) / "jieba" if data_dir else None
                _analyzer = Analyzer(cache_dir=cache)
    return _analyzer
