"""The facts in a reply's paragraphs: mentions, events (with time, quantities, agents,
participants, place, instrument, non-compliance), relations to instruments, and claims.

Sentence by sentence. An event is extracted where a trigger word of its kind meets a date
or a quantity ("dated or quantified"); everything found is tied to its paragraph and to
the words it rests on (character offsets in the paragraph text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import URIRef

from .gazetteer import Gazetteer, Mention
from .lexicon import Lexicon
from .values import Quantity, TimeSpan, quantities, time_spans

VERIFICATION_KINDS = {"Inspection", "EvaluationVisit", "ObservationFlight", "VerificationActivity"}
ANAPHORA_ZH = re.compile(r"《(?P<t>公约|条约|协定|文件|准则|宪章|决定|议定书|宪法)》|"
                         r"该(?P<t2>条约|公约|协定|准则|决定|文件)")
ANAPHORA_EN = re.compile(r"\b(?:the|its) (?P<t>Treaty|Convention|Agreement|Code|Document|Decision|Charter|"
                         r"Constitution)\b")
HEAD_NOUNS = {"公约": ("公约", "Convention"), "条约": ("条约", "Treaty"), "协定": ("协定", "Agreement"),
              "文件": ("文件", "Document"), "准则": ("准则", "Code"), "宪章": ("宪章", "Charter"),
              "决定": ("决定", "Decision"), "议定书": ("议定书", "Protocol"),
              "Treaty": ("条约", "Treaty"), "Convention": ("公约", "Convention"),
              "Agreement": ("协定", "Agreement"), "Code": ("准则", "Code"),
              "Document": ("文件", "Document"), "Decision": ("决定", "Decision"),
              "Charter": ("宪章", "Charter"), "宪法": ("宪法", "Constitution"),
              "Constitution": ("宪法", "Constitution")}
PLACE_ZH = re.compile(r"在(?P<p>[^，。、；在的]{2,12}?)(?:举行|主办|举办|召开|开会)")
PLACE_EN = re.compile(r"\b(?:held|hosted|organized|organised|took place) in (?P<p>[A-Z][\w'-]*(?: [A-Z][\w'-]*){0,3})")
# what may stand between two instruments of one list: punctuation, "and", a parenthesis
LIST_GAP = re.compile(r"^(?:[\s、，,;；和及与以及《》“”\"]|and\b|or\b|of\b|the\b|\([^()]{0,60}\)|（[^（）]{0,60}）)*$")
# "参加了…其他论坛，如《X》" / "takes part in other forums, such as X": X is what it joins
EXAMPLE_GAP = re.compile(r"(?:[，,]\s*(?:如|例如)|such as|including)\s*[“\"《]?\s*$")
RECEIVED = re.compile(r"接受|在其领土上|received|hosted|on its territory", re.I)


@dataclass
class Event:
    kind: str
    sentence: tuple[int, int]
    trigger: tuple[int, int]
    span: TimeSpan | None
    agents: list[URIRef]
    participants: list[tuple[URIRef, str]]
    instrument: URIRef | None
    quantities: list[Quantity]
    place: str | None
    non_compliance: bool


@dataclass
class Relation:
    party: URIRef
    kind: str
    instrument: URIRef
    evidence: tuple[int, int]


@dataclass
class Claim:
    subjects: list[URIRef]
    stance: str
    instrument: URIRef | None
    evidence: tuple[int, int]
    events: list[int] = field(default_factory=list)   # indexes into the paragraph's events


@dataclass
class ParagraphFacts:
    mentions: list[Mention]
    events: list[Event]
    relations: list[Relation]
    claims: list[Claim]


def sentences(text: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans; Chinese splits after 。！？ (and ；), English after . ! ? before a space
    and a capital or a digit."""
    pattern = r"[。！？；]" if lang == "zh" else r"(?<=[.!?;])\s+(?=[A-Z0-9(“\"–])"
    spans, start = [], 0
    for m in re.finditer(pattern, text):
        end = m.end() if lang == "zh" else m.start()
        if text[start:end].strip():
            spans.append((start, end))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


class FactFinder:
    def __init__(self, gazetteer: Gazetteer, lex: Lexicon, respondent: URIRef | None):
        self.gaz = gazetteer
        self.lex = lex
        self.respondent = respondent
        self.last_instrument: URIRef | None = None   # for "the Convention", 《条约》
        self._party_names: list[str] = []
        self.list_context: TimeSpan | None = None  # the date of a paragraph ending with a colon
        self.list_intro = ""                       # the text of that paragraph

    def paragraph(self, text: str, list_item: bool = False) -> ParagraphFacts:
        """The facts of one paragraph. A list item without a date of its own takes the date
        of the paragraph that introduced the list ("In 2019, … as follows:")."""
        if not list_item:
            self.list_context = None
            self.list_intro = ""
        self._inherited = self.list_context if list_item else None
        self._intro = self.list_intro if list_item else ""
        mentions = self._mentions(text)
        events: list[Event] = []
        relations: list[Relation] = []
        claims: list[Claim] = []
        flagged: set[tuple[str, URIRef | None]] = set()  # (kind, agent) said not to comply
        for start, end in sentences(text, self.lex.lang):
            sentence = text[start:end]
            inside = [m for m in mentions if start <= m.start < end]
            found = self._events(sentence, start, inside, flagged)
            first = len(events)
            events += found
            relations += self._relations(sentence, start, inside)
            relations += self._implemented_by_verification(found, inside, relations, start, end)
            claim = self._claim(sentence, start, inside, found, first)
            if claim:
                claims.append(claim)
            claims += self._relation_claims(relations, claims, start, end)
        if not list_item and self.lex.ends_sentence(text) and text.rstrip()[-1:] in "：:":
            spans = time_spans(text, self.lex.lang)
            self.list_context = spans[0] if spans else None
            self.list_intro = text
        return ParagraphFacts(mentions, events, relations, claims)

    def _implemented_by_verification(self, events: list[Event], mentions: list[Mention],
                                     known: list[Relation], start: int, end: int) -> list[Relation]:
        """Receiving inspections or flights under instruments is implementing them."""
        if self.respondent is None:
            return []
        received = any(e.kind in VERIFICATION_KINDS and
                       (self.respondent, "InspectedRole") in e.participants for e in events)
        if not received:
            return []
        out: list[Relation] = []
        for m in mentions:
            if m.kind == "instrument" and m.target and not any(
                    r.party == self.respondent and r.instrument == m.target for r in known + out):
                out.append(Relation(self.respondent, "Implements", m.target, (start, end)))
        return out

    def _relation_claims(self, relations: list[Relation], claims: list[Claim], start: int,
                         end: int) -> list[Claim]:
        """What a reply says of another state's standing in an instrument is a claim about
        that state (a neutral account), unless the sentence already makes one."""
        out: list[Claim] = []
        for r in relations:
            if not (start <= r.evidence[0] < end) or r.party == self.respondent \
                    or not self.gaz.is_state(r.party):
                continue
            if any(r.party in c.subjects and c.evidence[0] == start for c in claims + out):
                continue
            out.append(Claim([r.party], "NeutralAccount", r.instrument, r.evidence))
        return out

    # mentions -------------------------------------------------------------------------
    def _mentions(self, text: str) -> list[Mention]:
        found = self.gaz.find(text)
        anaphora = ANAPHORA_ZH if self.lex.lang == "zh" else ANAPHORA_EN
        resolved: list[Mention] = []
        taken = [(m.start, m.end) for m in found]
        extra: list[Mention] = []
        for pronoun in anaphora.finditer(text):
            if any(s <= pronoun.start() < e for s, e in taken):
                continue
            extra.append(Mention(pronoun.start(), pronoun.end(), pronoun.group(), "instrument", None))
        for mention in sorted(found + extra, key=lambda m: m.start):
            if mention.target is None and mention.kind == "instrument":
                target = self._antecedent(mention.text)
                if target is not None:
                    mention = Mention(mention.start, mention.end, mention.text, "instrument", target)
                elif mention in extra:
                    continue  # a pronoun with nothing before it: not a mention
            if mention.kind == "instrument" and mention.target is not None:
                self.last_instrument = mention.target
            resolved.append(mention)
        return resolved

    def _antecedent(self, text: str) -> URIRef | None:
        noun = re.sub(r"^[《该]|》$|^(?:the|its) ", "", text)
        if noun not in HEAD_NOUNS:
            return None
        zh, en = HEAD_NOUNS[noun]
        if en == "Constitution":  # a reply's Constitution is its own state's
            adopted = self.gaz.adopted.get(self.respondent, []) if self.respondent is not None else []
            own = [i for i in adopted
                   if zh in self.gaz.label(i, "zh") or en in self.gaz.label(i, "en")]
            return own[0] if len(own) == 1 else None
        if self.last_instrument is None:
            return None
        labels = (self.gaz.label(self.last_instrument, "zh") + self.gaz.label(self.last_instrument, "en"))
        return self.last_instrument if zh in labels or en.lower() in labels.lower() else None

    # events ---------------------------------------------------------------------------
    def _events(self, sentence: str, offset: int, mentions: list[Mention],
                flagged: set[tuple[str, URIRef | None]]) -> list[Event]:
        local = [(m.start - offset, m.end - offset) for m in mentions]
        self._local = local
        names = [(a, b) for (a, b), m in zip(local, mentions, strict=True) if m.kind == "instrument"]
        spans = [sp for sp in time_spans(sentence, self.lex.lang)
                 if not any(a <= sp.begin < b for a, b in names)]  # "1994 年维也纳文件" is a name
        amounts = [q for q in quantities(sentence, self.lex.lang)
                   if not any(sp.begin <= q.begin < sp.finish for sp in spans)
                   and not any(a <= q.begin < b for a, b in local)]
        triggers: list[tuple[str, int, int]] = []
        for kind, pattern in self.lex.events.items():
            for m in pattern.finditer(sentence):
                if any(a <= m.start() < b for a, b in local):
                    continue  # the word is part of a name ("北约地中海对话")
                if self.lex.negation.search(sentence[max(0, m.start() - 2):m.start()]):
                    continue  # "没有批准", "not ratified"
                if not any(t[1] <= m.start() < t[2] or m.start() <= t[1] < m.end() for t in triggers):
                    triggers.append((kind, m.start(), m.end()))
        if not triggers:
            return []
        triggers.sort(key=lambda t: t[1])
        kinds: list[tuple[str, int, int]] = []
        for kind, s, e in triggers:
            if kind not in [k for k, _, _ in kinds] and not (
                    kind == "Meeting" and any(k == "Workshop" for k, _, _ in kinds)):
                kinds.append((kind, s, e))
        parties = [m for m in mentions if m.kind == "party"]
        instruments = [m for m in mentions if m.kind == "instrument" and m.target is not None]
        non_compliance = bool(self.lex.non_compliance.search(sentence))
        place = self._place(sentence)
        events = []
        for kind, s, e in kinds[:2]:
            own_spans = [sp for sp in spans if self._near(sentence, sp.begin, sp.finish, s, e)]
            own = [q for q in amounts if self._belongs(q, kind)
                   and (q.kind == "Holding" or self._near(sentence, q.begin, q.finish, s, e))]
            if not own_spans and not [q for q in own if q.kind != "ParticipantCount"]:
                continue  # neither dated nor quantified
            agents, participants = self._roles(kind, sentence, offset, s, parties, place)
            if len(kinds) > 1:  # each number goes with the trigger it stands nearest to
                own = [q for q in own if min(kinds[:2], key=lambda k: _distance(
                    q.begin, q.finish, k[1], k[2]))[0] == kind]
            agent_key = (kind, agents[0] if agents else None)
            said = non_compliance or agent_key in flagged
            if non_compliance:
                flagged.add(agent_key)
            several = len(own_spans) > 1 and kind in ("MilitaryExercise", "NoteVerbale")
            if several:
                own = [q for q in own if q.kind != "EventCount"]  # "two exercises": the count of all
            if not own_spans and self._inherited is not None:
                own_spans = [self._inherited]
            chosen: list[TimeSpan | None] = list(own_spans if several else own_spans[:1]) or [None]
            for span in chosen:
                events.append(Event(
                    kind=kind, sentence=(offset, offset + len(sentence)),
                    trigger=(offset + s, offset + e), span=span, agents=agents,
                    participants=participants,
                    instrument=instruments[0].target if instruments else None,
                    quantities=own, place=place, non_compliance=said))
        return events

    def _near(self, sentence: str, a: int, b: int, c: int, d: int) -> bool:
        """Within reach of the trigger, and in the same clause (no colon between)."""
        lo, hi = min(b, d), max(a, c)
        names = sum(e - s for s, e in getattr(self, "_local", []) if lo <= s and e <= hi)
        if _distance(a, b, c, d) - names > self.lex.trigger_distance:  # a name counts as a word
            return False
        between = sentence[min(b, d):max(a, c)]
        return not re.search(r"[：:]", between)

    @staticmethod
    def _belongs(q: Quantity, kind: str) -> bool:
        if kind == "FundingDecision":
            return q.kind == "MoneyAmount" or q.kind == "EventCount"
        if kind == "HoldingsDeclaration":
            return q.kind == "Holding"
        if kind == "MilitaryExercise":
            return q.kind in ("Personnel", "EquipmentCount", "EventCount")
        if kind in VERIFICATION_KINDS:
            return q.kind == "EventCount"
        return q.kind in ("EventCount", "ParticipantCount", "Personnel")

    def _roles(self, kind: str, sentence: str, offset: int, trigger: int,
               parties: list[Mention], place: str | None
               ) -> tuple[list[URIRef], list[tuple[URIRef, str]]]:
        hosts = [m.target for m in parties if place and m.text in place and m.target]
        before = [m.target for m in parties if m.start - offset < trigger and m.target
                  and m.target not in hosts]
        others = [m.target for m in parties if m.target and m.target not in hosts]
        if kind in VERIFICATION_KINDS:
            if RECEIVED.search(sentence) or RECEIVED.search(self._intro):
                # the respondent received them; those named before the word inspected
                inspecting = [p for p in _unique(before) if p != self.respondent]
                participants = [(p, "InspectingRole") for p in inspecting]
                if self.respondent is not None:
                    participants.append((self.respondent, "InspectedRole"))
                return inspecting, participants
            # the respondent carried them out, over or in the states named after the word
            after = [m.target for m in parties if m.start - offset >= trigger and m.target]
            agents = [self.respondent] if self.respondent else []
            return agents, [(a, "InspectingRole") for a in agents] + [
                (p, "InspectedRole") for p in _unique(after) if p != self.respondent]
        if kind in ("Meeting", "Workshop"):
            agents = _unique(before[:1]) or ([self.respondent] if self.respondent else [])
            roles = [(p, "ParticipantRole") for p in _unique(others) if p not in agents]
            return agents, roles + [(h, "HostRole") for h in _unique(hosts)]
        if kind == "FundingDecision":
            agents = _unique(before[:1]) or ([self.respondent] if self.respondent else [])
            return agents, [(a, "FunderRole") for a in agents]
        if kind == "HoldingsDeclaration":
            # "according to the data X provided, X holds…": the holder is the last actor
            # named before the figures
            agents = _unique(before[-1:]) or ([self.respondent] if self.respondent else [])
            return agents, []
        subject = before[-1:] if kind in ("MilitaryExercise",) else before[:1]
        if not subject and self.lex.first_person.search(sentence) is None and others:
            subject = others[:1] if kind not in ("MilitaryExercise",) else []
        agents = _unique(subject) or ([self.respondent] if self.respondent else [])
        role = "ConductingRole" if kind == "MilitaryExercise" else "ParticipantRole"
        return agents, [(a, role) for a in agents]

    def _place(self, sentence: str) -> str | None:
        pattern = PLACE_ZH if self.lex.lang == "zh" else PLACE_EN
        m = pattern.search(sentence)
        return m["p"].strip() if m else None

    # relations ------------------------------------------------------------------------
    def _relations(self, sentence: str, offset: int, mentions: list[Mention]) -> list[Relation]:
        instruments = [m for m in mentions if m.kind == "instrument" and m.target is not None]
        if not instruments or self.lex.appeal.search(sentence):
            return []
        found: list[Relation] = []
        for kind, pattern in self.lex.relations.items():
            for m in pattern.finditer(sentence):
                keyword = offset + m.start()
                self._party_names = [p.text for p in mentions if p.kind == "party"]
                targets = self._relation_targets(kind, keyword, offset + m.end(), instruments,
                                                 sentence, offset)
                if not targets:
                    continue
                if self.lex.negation.search(sentence[max(0, m.start() - 3):m.start()]):
                    continue
                if self.lex.generic_subject.search(sentence[:m.start()]):
                    continue  # "States implement…": no one party
                party = self._relation_subject(keyword, mentions, text=sentence, offset=offset)
                if party is None:
                    continue
                for target in targets:
                    instrument = target.target
                    if instrument is not None and not any(
                            r.party == party and r.instrument == instrument and r.kind == kind for r in found):
                        found.append(Relation(party, kind, instrument, (offset, offset + len(sentence))))
        return _strongest(found)

    def _relation_targets(self, kind: str, start: int, end: int, instruments: list[Mention],
                          sentence: str, offset: int) -> list[Mention]:
        window = self.lex.window if kind in ("IsPartyTo", "HasRatified", "HasSigned",
                                             "HasSuspended", "HasWithdrawn") else self.lex.near_window
        if kind == "IsPartyTo":
            # "X 是《Y》的缔约国" (instrument inside the phrase) / "X is a party to Y" (after it)
            return [m for m in instruments if start <= m.start <= end + window][:3]
        after = [m for m in instruments if end <= m.start]
        if not after:
            return []
        gap = sentence[end - offset:after[0].start - offset]
        for name in self._party_names:  # "执行欧安组织《…》": the owner's name is no distance
            gap = gap.replace(name, "")
        if len(gap.strip(" 的")) > window and not EXAMPLE_GAP.search(gap):
            return []
        chain = [after[0]]
        for m in after[1:]:  # "ratified A (…) and B": instruments listed after the first
            between = sentence[chain[-1].end - offset:m.start - offset]
            if LIST_GAP.match(between):
                chain.append(m)
            else:
                break
        return chain[:3]

    def _relation_subject(self, keyword: int, mentions: list[Mention], text: str,
                          offset: int) -> URIRef | None:
        parties = []
        for m in mentions:
            if m.kind != "party" or not m.target or m.end > keyword:
                continue
            if self.lex.members_of.match(text[m.end - offset:]):
                continue  # "EU member States": the members, not the organisation
            parties.append(m)
        states = [m for m in parties if m.target is not None and self.gaz.is_state(m.target)]
        if states:
            return states[-1].target
        if parties and not any(p.target == self.respondent for p in parties):
            return parties[-1].target
        if any(self.lex.members_of.match(text[m.end - offset:]) for m in mentions
               if m.kind == "party" and m.end <= keyword):
            return None
        return self.respondent

    @staticmethod
    def _view_sources(view: re.Match[str], sentence: str, offset: int,
                      mentions: list[Mention]) -> list[URIRef]:
        """The actors whose view a reply reports: named in the "according to …" clause."""
        end = _clause_end(sentence, view.start())
        return [m.target for m in mentions if m.kind == "party" and m.target
                and view.start() <= m.start - offset < end]

    # claims ---------------------------------------------------------------------------
    def _claim(self, sentence: str, offset: int, mentions: list[Mention], events: list[Event],
               first: int) -> Claim | None:
        if self.respondent is None:
            return None
        states = [m for m in mentions if m.kind == "party" and m.target and m.target != self.respondent]
        subjects: list[URIRef] = []
        linked = []
        for i, event in enumerate(events):
            others = [a for a in event.agents if a != self.respondent]
            if others and event.kind not in VERIFICATION_KINDS | {"Meeting", "Workshop", "FundingDecision"}:
                subjects += others
                linked.append(first + i)
        accusation = bool(self.lex.non_compliance.search(sentence)) or any(
            events[i - first].non_compliance for i in linked)
        accused = [m.target for m in states if m.target is not None and self.gaz.is_state(m.target)]
        if accusation and not subjects and accused:
            subjects = accused[:1]
        if not subjects and accused and self.lex.reported_view.search(sentence):
            subjects = accused[:1]
        subjects = _unique(subjects)
        if not subjects:
            return None
        view = self.lex.reported_view.search(sentence)
        sources = self._view_sources(view, sentence, offset, mentions) if view else []
        if sources and not set(sources) & set(subjects):
            stance = "ThirdPartyView"  # "according to the OSCE, X did not notify…"
        elif accusation:
            stance = "Accusation"      # includes "according to X's own data, X exceeds…"
        elif view:
            stance = "ThirdPartyView"
        else:
            stance = "NeutralAccount"
        instrument = next((m.target for m in mentions if m.kind == "instrument" and m.target), None)
        return Claim(subjects, stance, instrument, (offset, offset + len(sentence)), linked)


def _clause_end(sentence: str, start: int) -> int:
    m = re.search(r"[，,;；]", sentence[start:])
    return start + m.start() if m else len(sentence)


RELATION_STRENGTH = ["HasWithdrawn", "HasSuspended", "HasRatified", "IsPartyTo", "HasSigned",
                     "ParticipatesIn", "Implements"]


def _strongest(relations: list[Relation]) -> list[Relation]:
    """One relation per party and instrument in a sentence: the most specific one said."""
    best: dict[tuple[URIRef, URIRef], Relation] = {}
    for r in relations:
        key = (r.party, r.instrument)
        if key not in best or RELATION_STRENGTH.index(r.kind) < RELATION_STRENGTH.index(best[key].kind):
            best[key] = r
    return list(best.values())


def _distance(a: int, b: int, c: int, d: int) -> int:
    """Characters between the spans [a, b) and [c, d) (0 when they touch or overlap)."""
    return max(0, c - b, a - d)


def _unique(items: list[URIRef]) -> list[URIRef]:
    seen: list[URIRef] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
