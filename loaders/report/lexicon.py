"""How UN reports are written, per language: the patterns of their layout (headings,
"[Original: …]" lines, dates), their punctuation, and the words that signal events,
quantities, relations and stances. These describe the genre, not any one report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# Page furniture shared by every language edition.
SYMBOL_LINE = re.compile(r"^[A-Z]{1,2}/(?:[A-Z0-9.-]+/)*[A-Z0-9.-]+$")
JOB_LINE = re.compile(r"^(?:(?P<p1>\d{1,3})/\d{1,3}\s+)?(?P<job>\d{2}-\d{5})(?:\s*\([A-Z]\))?"
                      r"(?:\s+\d{1,3}/\d{1,3})?$")
URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$")
BARCODE_LINE = re.compile(r"^\*\d{7,}\*$")
PAGE_NUMBER_LINE = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class Lexicon:
    lang: str
    section: re.Pattern[str]
    original: re.Pattern[str]
    date_line: re.Pattern[str]
    languages: dict[str, str]
    terminal: str
    list_item: re.Pattern[str]
    numbered: re.Pattern[str]
    #: event class local name -> trigger pattern
    events: dict[str, re.Pattern[str]] = field(default_factory=dict)
    non_compliance: re.Pattern[str] = re.compile(r"(?!)")
    reported_view: re.Pattern[str] = re.compile(r"(?!)")
    first_person: re.Pattern[str] = re.compile(r"(?!)")
    #: relation kind local name -> pattern
    relations: dict[str, re.Pattern[str]] = field(default_factory=dict)
    negation: re.Pattern[str] = re.compile(r"(?!)")
    #: a call or wish (not a statement of fact): no relation is read from such a sentence
    appeal: re.Pattern[str] = re.compile(r"(?!)")
    #: "States" in general as the subject of a verb: no party to attach a relation to
    generic_subject: re.Pattern[str] = re.compile(r"(?!)")
    #: "X 成员国" / "X member States": the members, not the organisation
    members_of: re.Pattern[str] = re.compile(r"(?!)")
    #: characters between a relation keyword and the instrument it governs
    window: int = 25
    #: the same for "participates in", "implements" (the instrument follows the verb)
    near_window: int = 8
    #: characters between an event's trigger and its date or quantities
    trigger_distance: int = 50

    def ends_sentence(self, text: str) -> bool:
        stripped = text.rstrip().rstrip("”’\"')）」』]")
        return bool(stripped) and stripped[-1] in self.terminal


ZH = Lexicon(
    lang="zh",
    section=re.compile(r"^(?P<num>[一二三四五六七八九十]+)\s*[.．、]\s*(?P<title>\S.{0,60})$"),
    original=re.compile(r"^\[\s*原件\s*[：:]\s*(?P<lang>[^\]]+?)\s*\]$"),
    date_line=re.compile(r"^\[\s*(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*\]$"),
    languages={"英文": "en", "西班牙文": "es", "法文": "fr", "俄文": "ru", "阿拉伯文": "ar",
               "中文": "zh"},
    terminal="。！？；：…!?;:",
    list_item=re.compile(r"^(?:[–—•·\-]\s*|\([a-z]\)\s*|\d{1,2}[.．]\s+)"),
    numbered=re.compile(r"^(?P<num>\d{1,3})[.．]\s+"),
    events={
        "MilitaryExercise": re.compile(r"演习"),
        "EvaluationVisit": re.compile(r"评[价估]访问"),
        "Inspection": re.compile(r"视察(?!员)"),
        "ObservationFlight": re.compile(r"观察飞行"),
        "VerificationActivity": re.compile(r"核查活动|控制活动"),
        "Workshop": re.compile(r"讲习班|研讨会|训练营|培训"),
        "Meeting": re.compile(r"会议|首脑会议|对话|磋商|开会|进行了交流"),
        "FundingDecision": re.compile(r"供资|资金|资助|财政支持|出资|提供.{0,20}欧元|欧元.{0,6}资金"),
        "ReportSubmission": re.compile(r"提交.{0,30}报告|报告.{0,10}提交"),
        "NoteVerbale": re.compile(r"普通照会"),
        "InformationExchange": re.compile(r"信息交流|交换信息|情报交流|信息交换"),
        "Ratification": re.compile(r"批准(?!.{0,4}之前)"),
        "Suspension": re.compile(r"暂停执行|中止执行|暂停"),
        "Withdrawal": re.compile(r"退出"),
        "HoldingsDeclaration": re.compile(r"上限"),
    },
    non_compliance=re.compile(r"没有这么做|未通知|未经通知|不事前通知|违反|超过上限|超过.{0,6}上限|"
                              r"不遵守|未能遵守|未遵守|排除在视察和核查之外|侵略|非法吞并|占领|军事恐怖|"
                              r"威胁.{0,6}来自"),
    reported_view=re.compile(r"根据.{1,20}(?:提供|资料|信息|网站)|据.{1,12}(?:称|报道)|从.{1,8}的角度来看"),
    first_person=re.compile(r"我国|我们"),
    relations={
        "IsPartyTo": re.compile(r"是.{0,40}的缔约国"),
        "HasRatified": re.compile(r"(?<![对将未])批准了?(?=该|《|了)|已批准|加入了"),
        "HasSigned": re.compile(r"签署了"),
        # "对《X》作贡献": contributing to a reporting instrument is taking part in it
        "ParticipatesIn": re.compile(r"参加|参与|对(?=[^，。；]{2,20}作(?:出)?贡献)"),
        # reporting to or on an instrument is implementing it: "向《X》…提交报告",
        # "提交了关于《X》执行情况的报告"
        "Implements": re.compile(r"执行|遵守|履行|向(?=[^，。；]{2,80}提交(?:了)?[^，。；]{0,10}报告)|"
                                 r"关于(?=[^，。；]{2,80}执行情况)"),
        "HasSuspended": re.compile(r"暂停执行|中止执行"),
        "HasWithdrawn": re.compile(r"退出"),
    },
    negation=re.compile(r"没有|未|不"),
    appeal=re.compile(r"呼吁|敦促|鼓励|吁请|争取|希望|如果|若"),
    generic_subject=re.compile(r"(?:各国|所有国家|国家|各方|它们在?|他们在?)$"),
    members_of=re.compile(r"^\s*(?:所有)?成员国"),
    window=25,
    near_window=4,
    trigger_distance=90,
)

EN = Lexicon(
    lang="en",
    section=re.compile(r"^(?P<num>[IVX]{1,5})\.\s+(?P<title>[A-Z].{0,90})$"),
    original=re.compile(r"^\[\s*Original\s*:\s*(?P<lang>[A-Za-z]+)\s*\]$"),
    date_line=re.compile(r"^\[\s*(?P<date>\d{1,2}\s+[A-Z][a-z]+\s+\d{4})\s*\]$"),
    languages={"english": "en", "spanish": "es", "french": "fr", "russian": "ru",
               "arabic": "ar", "chinese": "zh"},
    terminal=".!?:;",
    list_item=re.compile(r"^(?:[–—•·\-]\s+|\([a-z]\)\s+|\d{1,2}\.\s+)"),
    numbered=re.compile(r"^(?P<num>\d{1,3})\.\s+"),
    events={
        "MilitaryExercise": re.compile(r"\bexercises?\b|\bmanoeuvres?\b|\bdrills?\b", re.I),
        "EvaluationVisit": re.compile(r"\bevaluation visits?\b", re.I),
        "Inspection": re.compile(r"\binspections?\b", re.I),
        "ObservationFlight": re.compile(r"\bobservation flights?\b", re.I),
        "VerificationActivity": re.compile(r"\bverification (?:activities|activity|visits?)\b|"
                                           r"\bcontrol activities\b", re.I),
        "Workshop": re.compile(r"\bworkshops?\b|\bseminars?\b|\btraining(?: courses?)?\b|\bboot ?camp\b", re.I),
        "Meeting": re.compile(r"\bmeetings?\b|\bconferences?\b|\bsummits?\b|\bdialogues?\b|"
                              r"\bconsultations?\b", re.I),
        "FundingDecision": re.compile(r"\bfund(?:s|ed|ing)?\b|\bfinanc(?:e|ed|ing|ial support)\b|"
                                      r"\b(?:provided|granted|allocated|committed|pledged)\s+(?:EUR|€|USD|US\$|\$)|"
                                      r"\bcontribut(?:ed|ion)s?\b.{0,40}(?:EUR|€|USD|\$)", re.I),
        "ReportSubmission": re.compile(r"\bsubmit(?:s|ted)?\b.{0,60}\breports?\b|"
                                       r"\breports?\b.{0,20}\bsubmitted\b", re.I),
        "NoteVerbale": re.compile(r"\bnotes? verbales?\b", re.I),
        "InformationExchange": re.compile(r"\bexchanges? of (?:military )?information\b|"
                                          r"\binformation exchanges?\b", re.I),
        "Ratification": re.compile(r"\bratif(?:y|ied|ies|ication)\b|\bacceded\b|\baccession\b", re.I),
        "Suspension": re.compile(r"\bsuspen(?:d|ded|ds|sion)\b", re.I),
        "Withdrawal": re.compile(r"\bwithdr(?:ew|awn|awal|aw)\b", re.I),
        "HoldingsDeclaration": re.compile(r"\bceilings?\b|\blimits? of\b|\bmaximum levels?\b", re.I),
    },
    non_compliance=re.compile(r"\bfail(?:ed|s|ure)? to\b|\bdid not\b|\bwithout (?:prior )?notif|"
                              r"\bnot notified\b|\bunnotified\b|\bviolat|\bbreach|\bexceed|"
                              r"\bnon-?complian|\bexcluded from inspection|\baggression\b|\billegal|\boccupation\b|"
                              r"\bthreats?\b.{0,20}\b(?:comes?|stems?) from\b", re.I),
    reported_view=re.compile(r"\baccording to\b|\bas reported by\b|\bfrom the [a-z]+ (?:point of view|perspective)\b|"
                             r"\bin the view of\b", re.I),
    first_person=re.compile(r"\b(?:we|our|us)\b", re.I),
    relations={
        "IsPartyTo": re.compile(r"\b(?:is|are|as) a (?:State )?part(?:y|ies) to\b|\bStates? part(?:y|ies)\b", re.I),
        "HasRatified": re.compile(r"\bratified\b|\bacceded to\b", re.I),
        "HasSigned": re.compile(r"\bsigned\b", re.I),
        "ParticipatesIn": re.compile(r"\bparticipat(?:es|ed|ing) in\b|\btakes? part in\b|\bsubscrib(?:es|ed) to\b|"
                                     r"\bcontribut(?:es|ed|ing) to\b", re.I),
        "Implements": re.compile(r"\bimplement(?:s|ed|ing)?\b|(?<!on the )\bimplementation of\b|"
                                 r"\bcompl(?:y|ies|ied) with\b|\badheres? to\b|"
                                 r"\breports? (?:to|on the implementation of|under)\b", re.I),
        "HasSuspended": re.compile(r"\bsuspend(?:ed|s)?\b", re.I),
        "HasWithdrawn": re.compile(r"\bwithdr(?:ew|awn) from\b", re.I),
    },
    negation=re.compile(r"\bnot\b|\bnever\b|\bno\b", re.I),
    appeal=re.compile(r"\bcalls? (?:up)?on\b|\burges?\b|\bencourages?\b|\binvites?\b|\bseeks?\b|\bif\b", re.I),
    generic_subject=re.compile(r"\b(?:States|all States|countries|parties|they)\s*$"),
    members_of=re.compile(r"^\s*(?:member States|Member States|members)\b"),
    window=60,
    near_window=30,
    trigger_distance=200,
)

LEXICONS = {"zh": ZH, "en": EN}


def detect_language(text: str) -> str:
    """"zh" when CJK characters dominate the letters, else "en"."""
    cjk = len(re.findall(f"[{CJK}]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk > latin / 4 else "en"
