#!/usr/bin/env python3
"""Regenerate the evaluation-metric fixtures: BLEU and chrF from sacrebleu, ROUGE and its tokenizer
from rouge_score, and the Porter stems rouge_score's tokenizer gives (NLTK's PorterStemmer), on a
seeded corpus built from tiny Shakespeare plus hand-written edge cases.

Run from the repository root (needs sacrebleu 2.6.0, rouge-score 0.1.2, nltk 3.10.4, numpy, six,
absl-py; tiny Shakespeare is read from ../shared/data/tinyshakespeare/input.txt, never copied here;
a few seconds):

    python3 Fixtures/make_evaluation_fixtures.py

Writes
    Fixtures/evaluation/metrics.json   the corpus (300 hypothesis + 2 reference triples, ROUGE
                                       summaries) and, computed on it by the libraries themselves:
                                       sacrebleu's 13a tokenization of every corpus line; corpus
                                       BLEU (smoothing methods, lowercase, effective order, 1/2
                                       reference streams, small edge subsets) with counts, totals,
                                       precisions, bp, lengths and signature; sentence BLEU; corpus
                                       and sentence chrF / chrF++; rouge_score's tokens with and
                                       without stemming; ROUGE-1/2/L/Lsum pairs (score and
                                       score_multi) with the plain mean of each case
    Fixtures/evaluation/porter.tsv     every distinct token rouge_score's tokenizer (no stemming)
                                       finds in tiny Shakespeare, plus ~200 words exercising every
                                       Porter step, sorted: "token<TAB>stem", stem = what
                                       DefaultTokenizer(use_stemmer=True) makes of that token
and the sha256 of each file written to Fixtures/SHA256SUMS-evaluation (paths relative to the
repository root: `sha256sum -c Fixtures/SHA256SUMS-evaluation` from there).

Deterministic: the corpus comes from random.Random(SEED); JSON is written with sort_keys,
ensure_ascii=False, indent=1 (floats as Python's repr); files are written to a temporary name and
renamed. nltk's sentence splitter (rouge_score's split_summaries=True) needs the punkt_tab data,
which is not installed, so every ROUGE case has split_summaries false: rougeLsum sentences are the
"\\n"-separated lines.
"""

import hashlib
import importlib.metadata
import json
import os
import random
import sys
from pathlib import Path

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from rouge_score import rouge_scorer, tokenizers

ROOT = Path(__file__).resolve().parent  # Fixtures/
REPO = ROOT.parent
SHAKESPEARE = REPO.parent / "shared" / "data" / "tinyshakespeare" / "input.txt"  # ../shared/... from the repo root
OUT = ROOT / "evaluation"
SUMS = ROOT / "SHA256SUMS-evaluation"
SEED = 20250611
N_CORPUS = 300
ROUGE_TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
EXPECTED_VERSIONS = {"sacrebleu": "2.6.0", "rouge_score": "0.1.2", "nltk": "3.10.4"}

# (hypothesis, reference 1, reference 2): hand-written edge cases. The rest of the corpus is
# tiny Shakespeare with seeded perturbations.
HAND = [
    # identical, no overlap, empty sides
    ("The quick brown fox jumps over the lazy dog.", "The quick brown fox jumps over the lazy dog.",
     "A quick brown fox jumped over the lazy dog."),
    ("Purple elephants dance quietly tonight", "The committee approved the annual budget.",
     "Members voted to accept the yearly plan."),
    ("", "There is a reference here.", "And here is another reference."),
    ("A hypothesis with no reference at all.", "", ""),
    ("", "", "Only the second reference has words."),
    ("Only the second reference matches this.", "", "Only the second reference matches this line."),
    ("", "", ""),
    ("   ", "Some reference text", "\t"),
    ("whitespace-only references", "  ", "\t \t"),
    # one-word lines
    ("Hello", "Hello", "Hi"),
    ("yes", "No", "nope"),
    ("Stop!", "Stop.", "Halt!"),
    ("Romeo", "ROMEO:", "Romeo."),
    ("x", "y", "z"),
    # numbers with separators
    ("The price rose to $4.50, up from $3.99 in 2019.", "The price rose to $4.50 from $3.99 in 2019.",
     "Prices climbed to $4.50, from $3.99, in 2019."),
    ("About 1,000,000 people came; pi is 3.14 and see pages 12-15.",
     "Roughly 1,000,000 people attended; pi is 3.14, see pages 12-15.",
     "Some 1,000,000 came, pi = 3.14, pages 12-15."),
    ("Version 2.0.1 shipped on 2021-03-04 at 10:30, for 1.5M users.",
     "Version 2.0.1 was released 2021-03-04 at 10:30 to 1.5M users.",
     "v2.0.1 shipped 2021-03-04, 10:30."),
    ("It was 50% off (i.e. half price) for items #3-#7.", "It was 50% off, i.e. half price, for items #3-#7.",
     "Items #3 to #7 were 50% off."),
    ("From -5 to +10 degrees over 3-4 days, 1.000,5 units, 7.", "From -5 to +10 degrees in 3-4 days; 1.000,5 units, 7.",
     "Between -5 and 10 degrees for 3 - 4 days."),
    ("the 1990s", "In the 1990s", "the 1990's"),
    ("Call 555-0199 or +1 (555) 010-0199 before 9.30am.", "Call 555-0199 or +1 (555) 010-0199 by 9.30am.",
     "Phone 555-0199 before 9.30 am."),
    # hyphenated words
    ("A well-known state-of-the-art mother-in-law re-entered the sub-committee.",
     "The well-known, state-of-the-art mother-in-law re-entered the sub-committee.",
     "A well known state of the art mother in law reentered the subcommittee."),
    ("Twenty-one year-olds --- a so-called non-issue -- self-evidently.",
     "Twenty-one year-olds - a so-called non-issue - self-evidently.",
     "Twenty one year olds: a non issue."),
    # HTML entities, literally in the text
    ("Tom &amp; Jerry said &quot;hello&quot; to &lt;b&gt; and &apos;bye&apos;.",
     "Tom & Jerry said \"hello\" to <b> and 'bye'.", "Tom &amp; Jerry said hello."),
    ("AT&T and R&D: &amp;amp; &amp;lt; &amp;quot; &#39;x&#39; &nbsp; 5 &lt; 6 &gt; 4",
     "AT&T and R&D: &amp; < &quot; 'x' 5 < 6 > 4", "AT&amp;T and R&amp;D"),
    ("<p>Hello &amp; welcome</p>", "<p>Hello & welcome</p>", "Hello and welcome"),
    # accents and non-ASCII
    ("Le café était naïve à Zürich, señor.", "Le café à Zürich était naïf, señor.",
     "Au café de Zürich, le señor était naïf."),
    ("El niño comió jalapeños mañana en España.", "El niño comió jalapeños en España mañana.",
     "El nino comio jalapenos en Espana."),
    ("Η Οδύσσεια είναι ένα αρχαίο ποίημα.", "Η Οδύσσεια είναι αρχαίο ελληνικό ποίημα.",
     "Η ΟΔΥΣΣΕΙΑ ΕΙΝΑΙ ΠΟΙΗΜΑ."),
    ("ΟΔΥΣΣΕΥΣ ΚΑΙ ΣΙΣΥΦΟΣ", "Οδυσσεύς και Σίσυφος", "οδυσσευς και σισυφος"),
    ("東京は日本の首都です。", "東京は日本の首都である。", "日本の首都は東京です。"),
    ("我爱北京天安门，你呢？", "我爱北京天安门。", "我 爱 北京 天安门"),
    ("I love it 😀👍🏽 so much!", "I love it 😀 so much!", "Love it 👨\u200d👩\u200d👧 so much!!"),
    ("“Quoted,” she said — ‘truly’ — and left…", "\"Quoted,\" she said - 'truly' - and left...",
     "“Quoted” she said—truly—and left."),
    ("cafe\u0301 vs café, Ångström vs A\u030angstro\u0308m", "café vs café, Ångström vs Ångström",
     "cafe vs cafe"),
    ("Привет, мир! Как дела?", "Привет мир! Как дела?", "Здравствуй, мир."),
    ("مرحبا بالعالم", "مرحبا بالعالم!", "أهلا بالعالم"),
    ("İstanbul ﬁne straße ẞ ǅemal 5 \u212a", "Istanbul fine strasse SS Dzemal 5 K", "istanbul fine straße"),
    ("Ça va? Œuvre, Æsir, ÿ, ĳ.", "Ça va ? Œuvre, Æsir.", "ca va oeuvre aesir"),
    ("½ ¾ ² ³ ٣٤٥ १२३ ５ⅷ", "½ ¾ 2 3 345 123 5", "one half"),
    # whitespace: tabs, repeated spaces, leading/trailing, other Unicode spaces
    ("  leading and trailing spaces  ", "leading and trailing spaces", " leading  and trailing\tspaces "),
    ("tabs\tbetween\twords\t", "tabs between words", "tabs\t\tbetween words"),
    ("multiple     spaces    here", "multiple spaces here", "multiple  spaces  here  "),
    ("non\u00a0breaking\u00a0space and\u3000ideographic\u2009thin", "non breaking space and ideographic thin",
     "non-breaking space"),
    ("zero\u200bwidth joiner\u200dhere", "zero width joiner here", "zerowidth"),
    ("control\x1fseparator\x1eand\x0bvertical\x0cfeed\x85next\u2028line", "control separator and vertical feed next line",
     "control separators"),
    ("carriage\r\nreturn and\rmore", "carriage return and more", "carriage\nreturn"),
    ("The well-\nknown <skipped> line\nbreak", "The wellknown line break", "The well-known line break"),
    # punctuation the 13a tokenizer treats specially
    ("Wait... what?! (Really) [yes] {no} <tag> a/b c\\d e|f ~g ^h _i `j` @k #l",
     "Wait ... what ?! ( Really ) [ yes ] { no } < tag > a / b c \\ d e | f ~ g ^ h _ i ` j ` @ k # l",
     "Wait, what? Really? Yes, no."),
    ("e.g. U.S.A. Mr. Smith's 3.5. and 4,5, x.y,z .5 ,7 a.,b", "e.g. U.S.A. Mr Smith's 3.5 and 4,5 x.y,z 0.5 7",
     "for example the USA"),
    ("3-4 x-1 1-x -5 --- a--b 2-", "3 - 4 x-1 1 - x -5", "three to four"),
    ("Don't you know it's John's? I'd've gone, y'all.", "Do not you know it is John's? I would have gone.",
     "Don't you know it is John's"),
    ("...", "!!!", "?"),
    ("- - -", "—", "–"),
    ("Hello,world.How are you?Fine!", "Hello, world. How are you? Fine!", "hello world how are you fine"),
    # case
    ("THE KING IS DEAD, LONG LIVE THE KING!", "The king is dead, long live the king!", "the king is dead."),
    ("the Lord Mayor of LONDON", "The lord mayor of London", "THE LORD MAYOR OF LONDON"),
    # repeated words (clipping), length ties, hypothesis longer than references
    ("the the the the the the the", "the cat is on the mat", "there is a cat on the mat"),
    ("the the the", "the cat", "the the dog"),
    ("one two three four five", "one two three four", "one two three four five six"),
    ("alpha beta gamma delta epsilon", "alpha beta gamma delta epsilon zeta", "alpha beta gamma delta"),
    ("the cat sat on the mat on the mat today and it was very happy indeed",
     "the cat sat on the mat", "a cat sat on a mat"),
    ("the cat sat on a mat", "the cat sat upon a mat", "a cat sat upon a mat"),
    ("the cat on the sat mat", "the cat sat on the mat", "there is a cat on the mat"),
    ("cat the sat mat on", "the cat sat on the mat", "a cat was on the mat"),
    ("a b c d e f g h", "h g f e d c b a", "a c e g b d f h"),
    # ROUGE tokenizer and stemmer material
    ("The runners were running quickly, happily and relationally.",
     "A runner runs quick, happy and relational.", "Runners ran quickly and happily."),
    ("Generalizations about oscillators are conditionally effective.",
     "A generalization about an oscillator is conditional and effective.", "Oscillators generalize."),
    ("mp3 3rd 1990s x86 h2o i18n covid19 b2b 4th", "MP3 3RD 1990S X86 H2O I18N", "mp3s and the 3rd 1990s"),
]

NUMBERS_FIRST = 14  # HAND[14:26]: numbers, hyphenated words, HTML entities

# ~200 words exercising every Porter step (and NLTK's irregular forms), added to porter.tsv.
PORTER_EXTRA = """
caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized
hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci
hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication
operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate
formative formalize electriciti electrical hopeful goodness revival allowance inference airliner
gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou
communism activate angulariti homologous effective bowdlerize probate rate cease controll roll
generalizations oscillators dying lying tying skies news innings inning outings outing cannings
canning howe proceed exceed succeed proceeding exceeded succeeds
enjoy enjoyment enjoying boy boys toy toys syzygy yyyy ayyy yelling kayak player played playing yearly
spied died tied cried applied flies dies cries spies tries trying crying flying happily happiness
bleed speed freed deed needed agreement agreeing sized sizing
bring string thing king spring ringing singing sings
missing buzzing rolling robbed stopped hoped hoping used aged owed axed iced eyed dyed
archaeology theology geology apology analogi analogy hopefulli carefully
radically formally generally finally totally possibly probably sensibly conformably
conditionally relationally digitizers ableness feudalisms generalization agreements
rates rated rating ceases ceased controlling controlled rolls rolled
able ably abler ion lion nation national nationally rationalism
ness eness sness fulness ful aful
also ally rally sally tally
ties tied tying tie
eyes bees free agree oaten cares cared caring ring hope aged
abed abel able acre aery
fiery foamy fussy fuzzy gaudy
quiet quite queue query quay
argue argued arguing arguments
sky skying skyed
wily wiley
syllable syllabus
1990s 3rd mp3 4th 12345 covid19 2000 b2b h2o x86 i18n 1st 2nd 22nd 100th 0 007 v2 3d
""".split()


def fail(message):
    sys.exit(f"make_evaluation_fixtures.py: {message}")


def write_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def dump_json(path, obj):
    text = json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False) + "\n"
    write_atomic(path, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Corpus

PUNCTS = [",", ".", "!", "?", ";", ":"]


def perturb(text, rng, rate, vocab):
    """Drop / swap / duplicate / replace words, change case, alter punctuation."""
    words = [w for w in text.split(" ") if w]
    if not words:
        return text
    edits = max(1, round(len(words) * rate))
    for _ in range(edits):
        op = rng.choice(["drop", "swap", "dup", "replace", "case", "punct"])
        i = rng.randrange(len(words))
        w = words[i]
        if op == "drop" and len(words) > 1:
            del words[i]
        elif op == "swap" and len(words) > 1:
            j = i + 1 if i + 1 < len(words) else i - 1
            words[i], words[j] = words[j], words[i]
        elif op == "dup":
            words.insert(i, w)
        elif op == "replace":
            words[i] = rng.choice(vocab)
        elif op == "case":
            words[i] = rng.choice([w.upper(), w.lower(), w.capitalize(), w.swapcase()])
        elif op == "punct":
            core = w.rstrip("".join(PUNCTS))
            if core != w and rng.random() < 0.5:
                words[i] = core  # remove trailing punctuation
            else:
                words[i] = (core or w) + rng.choice(PUNCTS)  # add or replace it
    return " ".join(words)


def whitespace_noise(text, rng):
    """Occasionally double a space, add a tab or pad the ends."""
    r = rng.random()
    if r < 0.04:
        return text.replace(" ", "  ", 1)
    if r < 0.07:
        return text.replace(" ", "\t", 1)
    if r < 0.10:
        return " " + text + " "
    return text


def shakespeare_lines():
    if not SHAKESPEARE.is_file():
        fail(f"tiny Shakespeare not found at {SHAKESPEARE} (expected ../shared/data/tinyshakespeare/input.txt "
             "relative to the repository root)")
    text = SHAKESPEARE.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.split("\n")]
    return text, [line for line in lines if line]


def build_corpus(lines, rng):
    vocab = sorted({w for line in lines for w in line.split(" ") if w})
    triples = [list(t) for t in HAND]
    # three very long segments (100+ words)
    for _ in range(3):
        start = rng.randrange(len(lines) - 200)
        words = []
        while len(words) < 110:
            words += lines[start].split(" ")
            start += 1
        ref = " ".join(words)
        triples.append([perturb(ref, rng, 0.25, vocab), ref, perturb(ref, rng, 0.1, vocab)])
    while len(triples) < N_CORPUS:
        start = rng.randrange(len(lines) - 3)
        k = rng.choice([1, 1, 2, 2, 3])
        ref = " ".join(lines[start:start + k])
        kind = rng.random()
        if kind < 0.03:
            hyp = ref  # identical
        elif kind < 0.06:
            hyp = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 8)))  # unrelated
        else:
            hyp = perturb(ref, rng, rng.choice([0.1, 0.2, 0.3, 0.5]), vocab)
        ref2 = perturb(ref, rng, 0.15, vocab)
        triples.append([whitespace_noise(hyp, rng), ref, ref2])
    return triples, vocab


def build_summaries(lines, rng, vocab):
    """(prediction, reference 1, reference 2) multi-sentence summaries, sentences joined by "\\n"."""
    out = []
    for _ in range(40):
        start = rng.randrange(len(lines) - 6)
        sents = lines[start:start + rng.randint(2, 5)]
        pred = [perturb(s, rng, 0.3, vocab) for s in sents]
        if len(pred) > 2 and rng.random() < 0.3:
            del pred[rng.randrange(len(pred))]
        if len(pred) > 1 and rng.random() < 0.3:
            i = rng.randrange(len(pred) - 1)
            pred[i], pred[i + 1] = pred[i + 1], pred[i]
        ref2 = [perturb(s, rng, 0.15, vocab) for s in sents]
        out.append(["\n".join(pred), "\n".join(sents), "\n".join(ref2)])
    out += [
        ["", "A first sentence.\nA second one.", "Another.\nSummary."],
        ["First sentence.\n\nSecond sentence.\n", "First sentence.\nSecond one.", "\n\nFirst.\n\n"],
        ["\n", "Something here.", "\n\n"],
        ["...\n!!!\nWords here", "Words here.\nMore words.", "..."],
        ["the cat sat\nthe dog ran", "the cat sat\nthe dog ran", "the dog ran\nthe cat sat"],
        ["the cat sat the dog ran", "the cat sat\nthe dog ran", "cats sat\ndogs ran"],
        ["the dog ran\nthe cat sat", "the cat sat\nthe dog ran", "a cat\na dog"],
        ["Running runners ran.\nThey were happily running.", "The runner runs.\nHe runs happily.", "Runs.\nRan."],
        ["Le café à Zürich.\nNaïve señor!", "Le café de Zürich.\nUn señor naïf.", "cafe\nzurich"],
        ["one\ntwo\nthree\nfour", "four\nthree\ntwo\none", "one two three four"],
        ["a a a\na a", "a\na a a a", "a a"],
        ["\r\nWindows line\r\nendings\r\n", "Windows line\nendings", "windows\r\nline endings"],
    ]
    # small alphabets: many equal-length LCSs, so the LCS backtracking order matters for rougeLsum
    for _ in range(30):
        def summary():
            return "\n".join(" ".join(rng.choice("abc") for _ in range(rng.randint(1, 6)))
                             for _ in range(rng.randint(1, 4)))
        out.append([summary(), summary(), summary()])
    return out


# ---------------------------------------------------------------------------------------------
# BLEU

BLEU_CONFIGS = [  # (label, smooth_method, smooth_value, effective_order)
    ("exp", "exp", None, False),
    ("none", "none", None, False),
    ("floor", "floor", None, False),
    ("floor_0.5", "floor", 0.5, False),
    ("add-k", "add-k", None, False),
    ("add-k_2", "add-k", 2, False),
    ("exp_eff", "exp", None, True),
    ("none_eff", "none", None, True),
]


def bleu_fields(score):
    assert all(isinstance(c, int) for c in score.counts + score.totals), (score.counts, score.totals)
    return {"score": float(score.score), "counts": list(score.counts), "totals": list(score.totals),
            "precisions": [float(p) for p in score.precisions], "bp": float(score.bp),
            "sys_len": int(score.sys_len), "ref_len": int(score.ref_len)}


def bleu_case(name, hyps, streams, smooth_method, smooth_value, effective_order, lowercase=False):
    metric = BLEU(lowercase=lowercase, smooth_method=smooth_method, smooth_value=smooth_value,
                  effective_order=effective_order)
    score = metric.corpus_score(hyps, streams)
    case = {"name": name, "hypotheses": list(hyps), "references": [list(s) for s in streams],
            "lowercase": lowercase, "smooth_method": smooth_method,
            "smooth_value": None if smooth_value is None else float(smooth_value),
            "effective_order": effective_order, "signature": str(metric.get_signature())}
    case.update(bleu_fields(score))
    return case


def streams_of(segments):
    """[(hyp, [refs])] with the same number of refs -> (hyps, reference streams)."""
    nrefs = len(segments[0][1])
    assert all(len(refs) == nrefs for _, refs in segments)
    return [h for h, _ in segments], [[refs[k] for _, refs in segments] for k in range(nrefs)]


def bleu_subsets(corpus, rng):
    assert HAND[NUMBERS_FIRST][0].startswith("The price") and HAND[NUMBERS_FIRST + 11][0].startswith("<p>")
    def seg(i, nrefs=1):
        return (corpus[i][0], corpus[i][1:1 + nrefs])
    long_ids = [len(HAND) + k for k in range(3)]
    return [
        ("all_empty_hyps", [("", ["a b c"]), ("", ["d e"]), ("", [""])]),
        ("single_empty_hyp", [("", ["The cat sat on the mat."])]),
        ("empty_hyp_empty_ref", [("", [""])]),
        ("empty_ref", [("the cat", [""])]),
        ("empty_hyp_among_others", [("the cat sat on the mat", ["the cat sat on the mat"]), ("", ["a dog barked"]),
                                    ("a dog barked loudly", ["a dog barked"])]),
        ("whitespace_only", [("   ", ["Some reference text"]), ("\t", ["  "])]),
        ("identical", [("The quick brown fox jumps over the lazy dog.", ["The quick brown fox jumps over the lazy dog."])]),
        ("no_overlap", [("Purple elephants dance quietly tonight", ["The committee approved the annual budget."])]),
        ("no_4gram_match", [("the cat sat on a mat", ["the cat sat upon a mat"])]),
        ("no_3gram_match", [("the cat on the sat mat", ["the cat sat on the mat"])]),
        ("unigrams_only", [("cat the sat mat on", ["the cat sat on the mat"])]),
        ("hyp_longer_2refs", [("the cat sat on the mat on the mat today and it was very happy indeed",
                               ["the cat sat on the mat", "a cat sat on a mat"])]),
        ("ref_len_tie", [("one two three four five", ["one two three four", "one two three four five six"]),
                         ("alpha beta gamma delta epsilon", ["alpha beta gamma delta epsilon zeta",
                                                             "alpha beta gamma delta"])]),
        ("one_word_hyps", [("Hello", ["Hello"]), ("yes", ["No"]), ("Stop!", ["Stop."])]),
        ("two_word_hyps", [("Hello there", ["Hello there friend"]), ("good night", ["Good night , sweet prince"])]),
        ("repeated_words_2refs", [("the the the the the the the", ["the cat is on the mat", "there is a cat on the mat"]),
                                  ("the the the", ["the cat", "the the dog"])]),
        ("case_mismatch", [("THE KING IS DEAD, LONG LIVE THE KING!", ["The king is dead, long live the king!"]),
                           ("the Lord Mayor of LONDON", ["The lord mayor of London"])]),
        ("unicode", [seg(i) for i in range(len(HAND)) if any(ord(c) > 127 for c in "".join(HAND[i]))][:8]),
        ("numbers_entities", [seg(i) for i in range(NUMBERS_FIRST, NUMBERS_FIRST + 12)]),
        ("punctuation_13a", [seg(i) for i in range(len(HAND)) if HAND[i][0].startswith(("Wait...", "e.g.", "3-4", "...",
                                                                                         "- - -", "Hello,world",
                                                                                         "The well-"))]),
        ("five_segments_2refs", [seg(i, 2) for i in rng.sample(range(len(HAND) + 3, len(corpus)), 5)]),
        ("long_lines_2refs", [seg(i, 2) for i in long_ids]),
        ("three_segments", [seg(i) for i in rng.sample(range(len(HAND) + 3, len(corpus)), 3)]),
    ]


def make_bleu(corpus, rng):
    cases = []
    hyps = [t[0] for t in corpus]
    one = [[t[1] for t in corpus]]
    two = [[t[1] for t in corpus], [t[2] for t in corpus]]
    cases.append(bleu_case("corpus_1ref/exp", hyps, one, "exp", None, False))
    cases.append(bleu_case("corpus_1ref/exp_lowercase", hyps, one, "exp", None, False, lowercase=True))
    for label, method, value, eff in BLEU_CONFIGS:
        if label != "none_eff":
            cases.append(bleu_case(f"corpus_2ref/{label}", hyps, two, method, value, eff))
    cases.append(bleu_case("corpus_2ref/exp_lowercase", hyps, two, "exp", None, False, lowercase=True))
    for name, segments in bleu_subsets(corpus, rng):
        h, s = streams_of(segments)
        for label, method, value, eff in BLEU_CONFIGS:
            cases.append(bleu_case(f"{name}/{label}", h, s, method, value, eff))
        if name in ("case_mismatch", "unicode", "five_segments_2refs"):
            cases.append(bleu_case(f"{name}/exp_lowercase", h, s, "exp", None, False, lowercase=True))
    return cases


def make_sentence_bleu(corpus, rng):
    ids = list(range(len(HAND) + 3)) + sorted(rng.sample(range(len(HAND) + 3, len(corpus)), 150 - len(HAND) - 3))
    configs = [("exp", None), ("floor", None), ("add-k", None), ("none", None), ("floor", 0.5), ("add-k", 2)]
    out = []
    for k, i in enumerate(ids):
        for nrefs in (1, 2):
            method, value = configs[(k + nrefs) % len(configs)]
            lowercase = (k % 7 == 3)
            hyp, refs = corpus[i][0], corpus[i][1:1 + nrefs]
            metric = BLEU(effective_order=True, smooth_method=method, smooth_value=value, lowercase=lowercase)
            score = metric.sentence_score(hyp, refs)
            entry = {"hypothesis": hyp, "references": list(refs), "smooth_method": method,
                     "smooth_value": None if value is None else float(value), "lowercase": lowercase}
            entry.update(bleu_fields(score))
            out.append(entry)
    return out


# ---------------------------------------------------------------------------------------------
# chrF

def chrf_case(name, hyps, streams, char_order=6, word_order=0, beta=2, lowercase=False, whitespace=False,
              eps_smoothing=False):
    metric = CHRF(char_order=char_order, word_order=word_order, beta=beta, lowercase=lowercase,
                  whitespace=whitespace, eps_smoothing=eps_smoothing)
    score = metric.corpus_score(hyps, streams)
    return {"name": name, "hypotheses": list(hyps), "references": [list(s) for s in streams],
            "char_order": char_order, "word_order": word_order, "beta": beta, "lowercase": lowercase,
            "whitespace": whitespace, "eps_smoothing": eps_smoothing, "score": float(score.score),
            "signature": str(metric.get_signature())}


CHRF_CONFIGS = [  # (label, kwargs)
    ("chrF2", {}),
    ("chrF++", {"word_order": 2}),
    ("eps", {"eps_smoothing": True}),
    ("chrF++_eps", {"word_order": 2, "eps_smoothing": True}),
    ("whitespace", {"whitespace": True}),
    ("lowercase", {"lowercase": True}),
]


def make_chrf(corpus, rng):
    hyps = [t[0] for t in corpus]
    one = [[t[1] for t in corpus]]
    two = [[t[1] for t in corpus], [t[2] for t in corpus]]
    cases = [chrf_case("corpus_1ref/chrF2", hyps, one), chrf_case("corpus_1ref/chrF++", hyps, one, word_order=2)]
    for label, kw in CHRF_CONFIGS:
        cases.append(chrf_case(f"corpus_2ref/{label}", hyps, two, **kw))

    def seg(i, nrefs=1):
        return (corpus[i][0], corpus[i][1:1 + nrefs])
    subsets = [
        ("all_empty_hyps", [("", ["a b c"]), ("", ["d e"])]),
        ("single_empty_hyp", [("", ["The cat sat on the mat."])]),
        ("empty_ref", [("the cat", [""])]),
        ("empty_hyp_empty_ref", [("", [""])]),
        ("empty_mixed_2refs", [("", ["", "x"]), ("abc", ["", "abd"]), ("A hypothesis.", ["", ""])]),
        ("identical", [("The quick brown fox jumps over the lazy dog.", ["The quick brown fox jumps over the lazy dog."])]),
        ("no_overlap", [("xyz", ["abc"]), ("qqq", ["www"])]),
        ("one_char", [("a", ["a"]), ("b", ["ab"])]),
        ("short_words", [("ab cd", ["abcd"]), ("a b c", ["abc"])]),
        ("punctuation_words", [("(hi) hello, ,hello 'quoted' a . ... —yes", ["(hi) hello , hello 'quoted' a ... yes"]),
                               ("end. (start", ["end . ( start"])]),
        ("whitespace", [seg(i) for i in range(len(HAND)) if "\t" in "".join(HAND[i]) or "  " in "".join(HAND[i])]),
        ("unicode", [seg(i) for i in range(len(HAND)) if any(ord(c) > 127 for c in "".join(HAND[i]))]),
        ("best_ref_2refs", [seg(i, 2) for i in range(0, 14)]),
        ("case_mismatch", [("THE KING IS DEAD", ["The king is dead"]), ("the Lord Mayor of LONDON", ["The lord mayor of London"])]),
        ("five_segments_2refs", [seg(i, 2) for i in rng.sample(range(len(HAND) + 3, len(corpus)), 5)]),
        ("long_lines_2refs", [seg(len(HAND) + k, 2) for k in range(3)]),
    ]
    for name, segments in subsets:
        h, s = streams_of(segments)
        for label, kw in CHRF_CONFIGS:
            cases.append(chrf_case(f"{name}/{label}", h, s, **kw))
        cases.append(chrf_case(f"{name}/beta1_char4_word1", h, s, char_order=4, word_order=1, beta=1))
    return cases


def make_sentence_chrf(corpus, rng):
    ids = list(range(len(HAND))) + sorted(rng.sample(range(len(HAND), len(corpus)), 100 - len(HAND)))
    configs = [(6, 0, 2), (6, 2, 2), (6, 0, 1), (4, 1, 3), (6, 2, 3), (2, 0, 2)]
    out = []
    for k, i in enumerate(ids):
        char_order, word_order, beta = configs[k % len(configs)]
        nrefs = 1 + k % 2
        hyp, refs = corpus[i][0], corpus[i][1:1 + nrefs]
        metric = CHRF(char_order=char_order, word_order=word_order, beta=beta)
        out.append({"hypothesis": hyp, "references": list(refs), "char_order": char_order,
                    "word_order": word_order, "beta": beta, "score": float(metric.sentence_score(hyp, refs).score)})
    return out


# ---------------------------------------------------------------------------------------------
# ROUGE

def rouge_scores(scorer, prediction, references):
    if len(references) == 1:
        result = scorer.score(references[0], prediction)  # target first
    else:
        result = scorer.score_multi(references, prediction)
    return {k: {"precision": float(result[k].precision), "recall": float(result[k].recall),
                "fmeasure": float(result[k].fmeasure)} for k in ROUGE_TYPES}


def rouge_case(name, use_stemmer, pairs):
    scorer = rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer=use_stemmer, split_summaries=False)
    out = [{"prediction": p, "references": list(refs), "scores": rouge_scores(scorer, p, refs)} for p, refs in pairs]
    mean = {k: {m: sum(pair["scores"][k][m] for pair in out) / len(out) for m in ("precision", "recall", "fmeasure")}
            for k in ROUGE_TYPES}
    return {"name": name, "use_stemmer": use_stemmer, "split_summaries": False, "pairs": out, "mean": mean}


def make_rouge(corpus, summaries, rng):
    ids = list(range(len(HAND) + 3)) + sorted(rng.sample(range(len(HAND) + 3, len(corpus)), 60))
    single = [(corpus[i][0], [corpus[i][1]]) for i in ids]
    multi = [(corpus[i][0], [corpus[i][1], corpus[i][2]]) for i in ids]
    n_sh = 40
    summ_single = [(s[0], [s[1]]) for s in summaries[:n_sh + 12]]
    summ_multi = [(s[0], [s[1], s[2]]) for s in summaries[:n_sh + 12]]
    small = [(s[0], [s[1]] if k % 2 == 0 else [s[1], s[2]]) for k, s in enumerate(summaries[n_sh + 12:])]
    edge = [
        ("", [""]), ("", ["a reference"]), ("a prediction", [""]), ("   ", ["   "]), ("...", ["!!!"]),
        ("identical strings here", ["identical strings here"]),
        ("Identical Strings, Here!", ["identical strings here"]),
        ("café naïve Zürich", ["cafe naive zurich"]), ("東京 日本", ["東京 日本"]),
        ("running runs ran", ["run runs running"]),
        ("the cat", ["the cat sat on the mat", "a dog"]),
        ("the cat sat", ["cat the sat", "the sat cat"]),
        ("a b c d", ["a b x y", "c d a b", "a b c"]),
        ("w x y z", ["p q", "r s"]),
        ("", ["x", "y"]),
        ("x y", ["", "x"]),
        ("the the the the", ["the", "the the"]),
    ]
    return [
        rouge_case("single_nostem", False, single),
        rouge_case("single_stem", True, single),
        rouge_case("multi_nostem", False, multi),
        rouge_case("multi_stem", True, multi),
        rouge_case("summaries_nostem", False, summ_single),
        rouge_case("summaries_stem", True, summ_single),
        rouge_case("summaries_multi_stem", True, summ_multi),
        rouge_case("small_alphabet", False, small),
        rouge_case("edge_nostem", False, edge),
        rouge_case("edge_stem", True, edge),
    ]


def make_rouge_tokens(corpus, summaries, lines, rng):
    inputs = []
    for t in corpus[:len(HAND)]:
        inputs += t
    inputs += [s[0] for s in summaries[40:52]]
    inputs += rng.sample(lines, 60)
    inputs += ["İstanbul", "\u212a", "ǅemal ǈ ǋ", "ﬁne ﬂow ﬀ", "STRASSE straße ẞ", "ＡＢＣ１２３", "abc123def 456",
               "O'Neill's co-operation", "re-entered", "e-mail", "yyyy", "skies dying lying news innings",
               "Generalizations", "sing sings singing", "a an the of", "cats", "ties", "ponies",
               "é", "naïve", "x\u0301", "hello_world", "snake_case CamelCase", "ⅷ ½ ²"]
    seen, distinct = set(), []
    for s in inputs:
        if s not in seen:
            seen.add(s)
            distinct.append(s)
    out = []
    for stem in (False, True):
        tok = tokenizers.DefaultTokenizer(use_stemmer=stem)
        out += [{"input": s, "use_stemmer": stem, "tokens": tok.tokenize(s)} for s in distinct]
    return out


# ---------------------------------------------------------------------------------------------
# Porter stems

def make_porter(text):
    plain = tokenizers.DefaultTokenizer(use_stemmer=False)
    stemming = tokenizers.DefaultTokenizer(use_stemmer=True)
    stemmer = stemming._stemmer  # the very nltk PorterStemmer object rouge_score uses
    tokens = set(plain.tokenize(text))
    for word in PORTER_EXTRA:
        assert plain.tokenize(word) == [word], word
        tokens.add(word)
    rows = []
    for token in sorted(tokens):
        stem = stemmer.stem(token) if len(token) > 3 else token  # rouge_score/tokenize.py
        assert stemming.tokenize(token) == [stem], (token, stem)
        assert "\t" not in stem and "\n" not in stem
        rows.append(f"{token}\t{stem}\n")
    return "".join(rows), len(tokens)


# ---------------------------------------------------------------------------------------------

def main():
    versions = {"sacrebleu": sacrebleu.__version__, "rouge_score": importlib.metadata.version("rouge-score"),
                "nltk": importlib.metadata.version("nltk")}
    if versions != EXPECTED_VERSIONS:
        print(f"warning: made with {EXPECTED_VERSIONS}, running with {versions}", file=sys.stderr)

    text, lines = shakespeare_lines()
    rng = random.Random(SEED)
    corpus, vocab = build_corpus(lines, rng)
    assert len(corpus) == N_CORPUS
    summaries = build_summaries(lines, rng, vocab)

    tok13a = Tokenizer13a()
    seen, distinct = set(), []
    for triple in corpus:
        for s in triple:
            if s not in seen:
                seen.add(s)
                distinct.append(s)

    metrics = {
        "versions": versions,
        "corpus": [{"hypothesis": h, "references": [r1, r2]} for h, r1, r2 in corpus],
        "summaries": [{"prediction": p, "references": [r1, r2]} for p, r1, r2 in summaries],
        "tokenize_13a": [{"input": s, "output": tok13a(s)} for s in distinct],
        "bleu": make_bleu(corpus, rng),
        "sentence_bleu": make_sentence_bleu(corpus, rng),
        "chrf": make_chrf(corpus, rng),
        "sentence_chrf": make_sentence_chrf(corpus, rng),
        "rouge_tokens": make_rouge_tokens(corpus, summaries, lines, rng),
        "rouge": make_rouge(corpus, summaries, rng),
    }
    porter, n_porter = make_porter(text)

    written = [OUT / "metrics.json", OUT / "porter.tsv"]
    dump_json(written[0], metrics)
    write_atomic(written[1], porter.encode("utf-8"))
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(REPO)}\n" for p in written]
    write_atomic(SUMS, "".join(sums).encode("utf-8"))

    for key in ("tokenize_13a", "bleu", "sentence_bleu", "chrf", "sentence_chrf", "rouge_tokens", "rouge"):
        print(f"{key}: {len(metrics[key])}")
    print(f"porter.tsv: {n_porter} tokens")
    for case in metrics["bleu"][:3] + metrics["chrf"][:2]:
        print(f"{case['name']}: {case['score']:.4f}  {case['signature']}")
    single_stem = metrics["rouge"][1]
    print("single_stem mean F:", {k: round(v["fmeasure"], 4) for k, v in single_stem["mean"].items()})
    for p in written + [SUMS]:
        print(f"{p.relative_to(REPO)}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
