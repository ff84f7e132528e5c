"""Dates, intervals and quantities as reports write them, in Chinese and English.

    >>> span = time_spans("2019 年 3 月 11 日至 13 日", "zh")[0]
    >>> span.start, span.end
    ('2019-03-11', '2019-03-13')
    >>> [(q.value, q.qualifier, q.unit) for q in quantities("多达 10 000 名军事人员", "zh")]
    [(10000, 'UpTo', 'Troops')]
    >>> [(q.value, q.unit) for q in quantities("1.85 亿欧元", "zh")]
    [(185000000, 'EUR')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

MONTHS_EN = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december"
    .split(), start=1)}
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9, "十": 10}
EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
              "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


@dataclass(frozen=True)
class TimeSpan:
    start: str          # ISO: YYYY-MM-DD, YYYY-MM or YYYY
    end: str
    text: str
    begin: int          # offsets in the sentence
    finish: int


@dataclass(frozen=True)
class Quantity:
    value: int | Decimal
    unit: str | None         # local name in cbm:Units, or None
    kind: str                # local name in cbm:QuantityKinds
    category: str | None     # local name in cbm:EquipmentCategories
    qualifier: str           # local name in cbm:Qualifiers
    limit: int | Decimal | None
    text: str
    begin: int
    finish: int


def _iso(y: int, m: int | None = None, d: int | None = None) -> str:
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


_ZH_DATE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?:(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*日)?)?"
    r"(?:\s*(?P<conn>至|到|和|-|–)\s*(?:(?P<y2>\d{4})\s*年\s*)?(?:(?P<m2>\d{1,2})\s*月\s*)?(?P<d2>\d{1,2})\s*日)?"
    r"(?P<whole>\s*(?:全年|期间|年底|年初))?")
_ZH_MORE = re.compile(r"^[、，和及]\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
                      r"(?:\s*(?:至|到|和)\s*(?:(?P<m2>\d{1,2})\s*月\s*)?(?P<d2>\d{1,2})\s*日)?")
_EN_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_EN_DATE = re.compile(
    rf"(?:(?P<d>\d{{1,2}})(?:\s*(?:to|-|–|and)\s*(?P<d2>\d{{1,2}}))?\s+(?P<m>{_EN_MONTH})"
    rf"(?:\s*(?:to|-|–)\s*(?P<d3>\d{{1,2}})\s+(?P<m3>{_EN_MONTH}))?\s+(?P<y>\d{{4}}))"
    rf"|(?:(?P<d6>\d{{1,2}})(?:\s*(?:to|-|–)\s*(?P<d7>\d{{1,2}}))?\s+(?P<m6>{_EN_MONTH})"
    rf"(?=\s*(?:and|,)\s*\d{{1,2}}(?:\s*(?:to|-|–)\s*\d{{1,2}})?\s+{_EN_MONTH}\s+(?P<y6>\d{{4}})))"
    rf"|(?:(?P<m4>{_EN_MONTH})\s+(?P<y4>\d{{4}}))"
    rf"|(?:(?P<whole>(?i:throughout|during|in|since|by|end of|early))\s+(?P<y5>(?:19|20)\d{{2}})(?![\d/]))")


def time_spans(sentence: str, lang: str) -> list[TimeSpan]:
    return _zh_spans(sentence) if lang == "zh" else _en_spans(sentence)


def _zh_spans(text: str) -> list[TimeSpan]:
    spans = []
    for m in _ZH_DATE.finditer(text):
        y = int(m["y"])
        month = int(m["m"]) if m["m"] else None
        day = int(m["d"]) if m["d"] else None
        start = _iso(y, month, day)
        end = start
        if m["d2"] and m["conn"] == "和" and (m["y2"] or m["m2"]):
            # "1 月 23 日和 2020 年 5 月 4 日": two dates, not one interval
            spans.append(TimeSpan(start, start, text[m.start():m.start("conn")].strip(),
                                  m.start(), m.start("conn")))
            second = _iso(int(m["y2"] or y), int(m["m2"] or month or 1), int(m["d2"]))
            spans.append(TimeSpan(second, second, text[m.end("conn"):m.end()].strip(),
                                  m.end("conn"), m.end()))
            continue
        if m["d2"]:
            end = _iso(int(m["y2"] or y), int(m["m2"] or month or 1), int(m["d2"]))
        spans.append(TimeSpan(start, end, m.group().strip(), m.start(), m.end()))
        # "…、9 月 16 日至 20 日": further intervals of the same year
        rest, offset = text[m.end():], m.end()
        while month is not None:
            more = _ZH_MORE.match(rest)
            if not more:
                break
            s = _iso(y, int(more["m"]), int(more["d"]))
            e = _iso(y, int(more["m2"] or more["m"]), int(more["d2"])) if more["d2"] else s
            spans.append(TimeSpan(s, e, more.group().lstrip("、，和及 "), offset + more.start(),
                                  offset + more.end()))
            rest, offset = rest[more.end():], offset + more.end()
    return spans


def _en_spans(text: str) -> list[TimeSpan]:
    spans = []
    for m in _EN_DATE.finditer(text):
        if m["y"]:
            y, month = int(m["y"]), MONTHS_EN[m["m"].lower()]
            start = _iso(y, month, int(m["d"]))
            if m["d3"]:
                end = _iso(y, MONTHS_EN[m["m3"].lower()], int(m["d3"]))
            elif m["d2"]:
                end = _iso(y, month, int(m["d2"]))
            else:
                end = start
        elif m["y6"]:
            y, month = int(m["y6"]), MONTHS_EN[m["m6"].lower()]
            start = _iso(y, month, int(m["d6"]))
            end = _iso(y, month, int(m["d7"])) if m["d7"] else start
        elif m["y4"]:
            start = end = _iso(int(m["y4"]), MONTHS_EN[m["m4"].lower()])
        else:
            start = end = _iso(int(m["y5"]))
        spans.append(TimeSpan(start, end, m.group(), m.start(), m.end()))
    return spans


# ---- quantities -------------------------------------------------------------------------
_ZH_NUMBER = r"(?:\d{1,3}(?:[ ,]\d{3})+|\d+(?:\.\d+)?|[一二两三四五六七八九十]{1,3})"
_ZH_QUANTITY = re.compile(
    rf"(?P<pre>多达|超过|逾|约|大约|至少|近)?\s*(?P<n>{_ZH_NUMBER})\s*(?P<mult>万|亿)?\s*(?P<more>多)?\s*"
    r"(?P<unit>名|辆|门|架|个|次|艘|项|国|欧元|美元|旅)(?P<post>以上|左右)?")
_EN_QUANTITY = re.compile(
    r"(?P<pre>up to|more than|over|some|about|approximately|around|at least|nearly)?\s*"
    r"(?P<cur>EUR|€|USD|US\$|\$)?\s*(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"(?:\s+(?P<mult>million|billion))?(?:\s*(?P<cur2>euros?|dollars?))?"
    r"(?P<noun>(?:\s+(?!(?:and|or|to|up|of|in|on|at|with|for|the|a|an|against|than|more|by|from)\b)"
    r"[a-z][a-z-]*){1,3})?", re.I)

# what the word after a number counts (Chinese measure words and English nouns)
_ZH_UNITS = {"名": ("Persons", "Personnel"), "辆": ("Items", "EquipmentCount"),
             "门": ("Items", "EquipmentCount"), "架": ("Items", "EquipmentCount"),
             "艘": ("Items", "EquipmentCount"), "个": ("Items", "EventCount"),
             "项": ("Items", "EventCount"), "次": ("Events", "EventCount"),
             "国": ("States", "ParticipantCount"), "欧元": ("EUR", "MoneyAmount"),
             "美元": ("USD", "MoneyAmount"), "旅": ("Items", "EquipmentCount")}
_CATEGORIES = [
    (re.compile(r"坦克|\btanks?\b", re.I), "BattleTank"),
    (re.compile(r"装甲战车|armou?red combat vehicles?|\bACVs?\b", re.I), "ArmouredCombatVehicle"),
    (re.compile(r"火炮|导弹和火炮|artillery", re.I), "Artillery"),
    (re.compile(r"作战飞机|combat aircraft", re.I), "CombatAircraft"),
    (re.compile(r"攻击直升机|attack helicopters?", re.I), "AttackHelicopter"),
    (re.compile(r"军舰|warships?", re.I), "Warship"),
]
_TROOPS = re.compile(r"军事人员|兵|部队人员|troops|military personnel|servicemen|soldiers", re.I)
_LIMIT_ZH = re.compile(r"^\s*[，,]\s*(?:允许)?上限为\s*(?P<n>\d{1,3}(?:[ ,]\d{3})+|\d+)")
_LIMIT_EN = re.compile(r"^\s*[,(]?\s*(?:against|compared with|with) (?:a|the|an allowed) "
                       r"(?:ceiling|limit|maximum) of\s+(?P<n>\d{1,3}(?:,\d{3})+|\d+)", re.I)
_QUALIFIERS = {"多达": "UpTo", "up to": "UpTo", "超过": "MoreThan", "逾": "MoreThan",
               "more than": "MoreThan", "over": "MoreThan", "多": "MoreThan", "以上": "MoreThan",
               "约": "About", "大约": "About", "左右": "About", "some": "About", "about": "About",
               "approximately": "About", "around": "About", "nearly": "About", "近": "About",
               "至少": "AtLeast", "at least": "AtLeast"}


def _number(text: str) -> int | Decimal:
    text = text.strip()
    if text.lower() in EN_NUMBERS:
        return EN_NUMBERS[text.lower()]
    if text[0] in CN_DIGITS:
        if len(text) == 1:
            return CN_DIGITS[text]
        tens, _, units = text.partition("十")
        return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (CN_DIGITS.get(units, 0) if units else 0)
    clean = re.sub(r"[ ,]", "", text)
    value = Decimal(clean)
    return int(value) if value == value.to_integral_value() else value


def _scaled(value: int | Decimal, multiplier: str | None) -> int | Decimal:
    factor = {"万": 10_000, "亿": 100_000_000, "million": 1_000_000,
              "billion": 1_000_000_000}.get((multiplier or "").lower(), 1)
    result = Decimal(value) * factor
    return int(result) if result == result.to_integral_value() else result


def quantities(sentence: str, lang: str) -> list[Quantity]:
    return _zh_quantities(sentence) if lang == "zh" else _en_quantities(sentence)


def _category(context: str) -> str | None:
    for pattern, category in _CATEGORIES:
        if pattern.search(context):
            return category
    return None


def _zh_quantities(text: str) -> list[Quantity]:
    found = []
    for m in _ZH_QUANTITY.finditer(text):
        after = text[m.end():m.end() + 12]
        before = text[max(0, m.start() - 8):m.start()]
        if re.search(r"上限为\s*$", before):
            continue  # the stated ceiling of the quantity before it
        if m["unit"] == "个" and after[:1] == "月":
            continue  # "六个月": a duration
        if before.endswith("第"):
            continue  # "第一次": an ordinal, not a count
        if m["n"] == "一" and m["unit"] in "项个" and not m["pre"]:
            continue  # "一项决定": the article "a", not a count
        unit, kind = _ZH_UNITS[m["unit"]]
        category = None
        in_brackets = re.search(r"[(（]\s*$", before)
        if kind == "EquipmentCount":
            category = (_category(before) if in_brackets else None) or _category(after) \
                or _category(before[-6:])
        if m["unit"] == "名" and _TROOPS.search(after[:6]):
            unit = "Troops"
        if m["unit"] == "个":
            if _category(after[:8]):
                unit, kind, category = "Items", "EquipmentCount", _category(after[:8])
            elif re.match(r"\s*(?:伙伴)?国家", after):
                unit, kind = "States", "ParticipantCount"
            elif not re.match(r"\s*(?:项目|活动|会议|方案)", after):
                kind = "EquipmentCount"
        limit_match = _LIMIT_ZH.match(text[m.end():])
        limit = _number(limit_match["n"]) if limit_match else None
        if limit is not None:
            kind = "Holding"
        qualifier = _QUALIFIERS.get(m["pre"] or m["more"] or m["post"] or "", "Exactly")
        value = _scaled(_number(m["n"]), m["mult"])
        found.append(Quantity(value, unit, kind, category, qualifier, limit,
                              m.group().strip(), m.start(), m.end()))
    return found


_EN_NOUN_UNITS = [
    (re.compile(r"^(troops|military personnel|personnel|servicemen|soldiers)"), "Troops", "Personnel"),
    (re.compile(r"^(persons|people|participants|experts|officers)"), "Persons", "Personnel"),
    (re.compile(r"^(inspections?|visits?|flights?|activities|exercises?|meetings?|workshops?|events?|"
                r"evaluation visits?|observation flights?|verification activities|projects?|"
                r"control activities)"), "Events", "EventCount"),
    (re.compile(r"^(states?|countries|partner countries)"), "States", "ParticipantCount"),
    (re.compile(r"^(tanks?|battle tanks?|armou?red combat vehicles?|artillery|pieces|systems|"
                r"aircraft|helicopters?|attack helicopters?|combat aircraft|units|launchers|warships?)"),
     "Items", "EquipmentCount"),
]


def _en_quantities(text: str) -> list[Quantity]:
    found = []
    for m in _EN_QUANTITY.finditer(text):
        noun = (m["noun"] or "").strip().lower()
        currency = (m["cur"] or m["cur2"] or "").lower()
        if re.fullmatch(r"(19|20)\d{2}", m["n"]) and not currency:
            continue  # a year
        unit = kind = None
        if currency:
            unit, kind = ("EUR", "MoneyAmount") if currency.startswith(("eur", "€")) else ("USD", "MoneyAmount")
        else:
            for pattern, u, k in _EN_NOUN_UNITS:
                if pattern.match(noun):
                    unit, kind = u, k
                    break
        if unit is None or kind is None:
            continue
        category = _category(noun) if kind == "EquipmentCount" else None
        limit_match = _LIMIT_EN.match(text[m.end():])
        limit = _number(limit_match["n"]) if limit_match else None
        if limit is not None:
            kind = "Holding"
        qualifier = _QUALIFIERS.get((m["pre"] or "").lower(), "Exactly")
        value = _scaled(_number(m["n"]), m["mult"])
        end = m.end() if not m["noun"] else m.start("noun")
        found.append(Quantity(value, unit, kind, category, qualifier, limit,
                              text[m.start():end].strip(), m.start(), end))
    return found
