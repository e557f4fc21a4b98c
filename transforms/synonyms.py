"""A curated English synonym table for ``synonym_swap``: word -> synonyms that keep the meaning.

Chosen for swaps that read naturally in almost any context (WordNet lists every sense, so
``bank`` -> ``depository`` happens); inflected forms are listed as their own entries so a swap
never breaks agreement. Words with a common sense the synonym lacks (``about`` as "roughly",
``since`` as "from then") are left out, and no number word is ever swapped.
"""

from __future__ import annotations

_PAIRS = """
also: additionally
however: nevertheless, nonetheless
therefore: thus, hence
important: crucial, essential, significant
often: frequently, commonly
usually: typically, generally
quickly: rapidly, swiftly
slowly: gradually
big: large, sizable
large: big, sizable
small: little, tiny
huge: enormous, massive
begin: start, commence
begins: starts
started: began
helps: assists, aids
helped: assisted
helpful: useful, beneficial
useful: helpful, handy
using: utilizing, employing
needed: required
buy: purchase
choose: select, pick
chose: selected, picked
answer: reply, response
answers: replies, responses
question: query
questions: queries
example: instance, illustration
examples: instances, illustrations
different: distinct, various
various: several, diverse
simple: straightforward, easy
easy: simple, effortless
difficult: hard, challenging
maybe: perhaps, possibly
perhaps: maybe, possibly
sure: certain
happy: glad, pleased
sad: unhappy, sorrowful
angry: mad, furious
fast: quick, rapid
quick: fast, speedy
smart: clever, intelligent
clever: smart, bright
beautiful: lovely, gorgeous
ugly: unattractive, unsightly
idea: notion, concept
ideas: notions, concepts
problem: issue, difficulty
problems: issues, difficulties
goal: aim, objective
goals: aims, objectives
method: technique, approach
methods: techniques, approaches
task: job, assignment
tasks: jobs, assignments
job: task, work
area: region, zone
areas: regions, zones
main: primary, principal
major: significant, principal
common: frequent, widespread
rare: uncommon, unusual
entire: whole, complete
whole: entire, complete
enough: sufficient, adequate
wrong: incorrect, mistaken
true: accurate, correct
possible: feasible, achievable
impossible: unachievable, unfeasible
likely: probable
unlikely: improbable
provide: supply, offer
provides: supplies, offers
try: attempt
tries: attempts
tried: attempted
find: locate, discover
finds: locates, discovers
found: discovered
improve: enhance, boost
improves: enhances, boosts
reduce: decrease, lower
reduces: decreases, lowers
explain: describe, clarify
explains: describes, clarifies
understand: grasp, comprehend
create: make, build
creates: makes, builds
build: construct, create
builds: constructs, creates
allow: permit, enable
allows: permits, enables
ensure: guarantee, make sure
include: contain, comprise
includes: contains, comprises
including: such as, comprising
contain: include, hold
contains: includes, holds
require: need, call for
requires: needs, calls for
suggest: recommend, propose
suggests: recommends, proposes
recommend: suggest, advise
avoid: steer clear of
prevent: stop, avert
finish: complete, end
continue: proceed, carry on
discuss: talk about, examine
describe: explain, depict
mention: note, refer to
believe: think, feel
feel: sense
say: state, tell
says: states, tells
said: stated, told
tell: inform, notify
seem: appear, look
seems: appears, looks
changed: modified
follow: observe, adhere to
protect: guard, shield
information: details, data
details: particulars, specifics
reason: cause, motive
reasons: causes, motives
advantage: benefit, strength
advantages: benefits, strengths
disadvantage: drawback, downside
disadvantages: drawbacks, downsides
option: choice, alternative
options: choices, alternatives
choice: option, selection
choices: options, selections
chance: opportunity, possibility
types: kinds, sorts
part: portion, section
parts: portions, sections
piece: portion, bit
amount: quantity
overall: in general, on the whole
especially: particularly, notably
particularly: especially, notably
mostly: largely, mainly
mainly: chiefly, primarily
really: truly, genuinely
very: extremely, highly
quite: rather, fairly
almost: nearly, practically
completely: entirely, totally
totally: completely, entirely
clearly: plainly, evidently
simply: just, merely
finally: lastly, ultimately
additionally: also, furthermore
furthermore: moreover, additionally
moreover: furthermore, additionally
first: initially
firstly: first, to begin with
lastly: finally, last
during: throughout, in the course of
although: though, even though
unless: except if
near: close to
enjoy: like, appreciate
great: excellent, wonderful
excellent: outstanding, superb
bad: poor, awful
terrible: awful, dreadful
strong: powerful, robust
weak: feeble, frail
rich: wealthy, affluent
poor: needy, impoverished
safe: secure, protected
dangerous: hazardous, risky
risky: dangerous, hazardous
harmful: damaging, detrimental
illegal: unlawful, illicit
legal: lawful, legitimate
happen: occur, take place
happens: occurs, takes place
happened: occurred, took place
appropriate: suitable, fitting
suitable: appropriate, fitting
specific: particular, precise
typical: usual, standard
usual: typical, customary
similar: alike, comparable
obvious: evident, clear
interesting: intriguing, fascinating
quiet: silent, calm
loud: noisy
tired: weary, exhausted
friend: companion, pal
friends: companions, pals
people: individuals, persons
person: individual
children: kids
child: kid
car: vehicle, automobile
house: home, residence
company: firm, business
money: funds, cash
world: globe, planet
city: town, municipality
country: nation
food: meals, nourishment
story: tale, narrative
stories: tales, narratives
topic: subject, theme
topics: subjects, themes
fact: truth, reality
facts: truths, realities
skill: ability, talent
skills: abilities, talents
strategy: plan, approach
"""

SYNONYMS: dict[str, list[str]] = {}
for _line in _PAIRS.strip().splitlines():
    _word, _, _options = _line.partition(":")
    SYNONYMS[_word.strip()] = [o.strip() for o in _options.split(",")]
