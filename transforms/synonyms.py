"""A curated English synonym table for ``synonym_swap``: word -> synonyms that keep the meaning.

Chosen for swaps that read naturally in almost any context (WordNet lists every sense, so
``bank`` -> ``depository`` happens); inflected forms are listed as their own entries so a swap
never breaks agreement. Words with a common sense or idiom the synonym lacks are left out
(``about`` as "roughly", ``first`` -> ``initially`` in "the first African American", ``feel``
in "feel free", ``follow`` in "as follows", ``whole`` in "as a whole", ``answer`` and
``question`` as verbs, ``problem`` and ``area`` in math, ``started`` after "has"), and no
number word is ever swapped. ``synonym_swap`` fixes ``a``/``an`` before a swapped word.
"""

from __future__ import annotations

_PAIRS = """
also: additionally
however: nevertheless, nonetheless
therefore: thus, hence
important: crucial, essential
often: frequently, commonly
usually: typically, generally
quickly: rapidly, swiftly
slowly: gradually
big: large, sizable
large: big, sizable
small: little
huge: enormous, massive
begin: start, commence
begins: starts
helps: assists, aids
helped: assisted
helpful: useful, beneficial
useful: helpful, handy
using: utilizing, employing
needed: required
buy: purchase
choose: select, pick
chose: selected, picked
example: instance
examples: instances
different: distinct
various: several, diverse
easy: simple, effortless
difficult: hard, challenging
maybe: perhaps, possibly
perhaps: maybe, possibly
happy: glad, pleased
sad: unhappy, sorrowful
angry: mad, furious
quick: fast, speedy
smart: clever, intelligent
clever: smart, bright
beautiful: lovely, gorgeous
ugly: unattractive, unsightly
idea: notion, concept
ideas: notions, concepts
goal: aim, objective
goals: aims, objectives
method: technique, approach
methods: techniques, approaches
task: job, assignment
tasks: jobs, assignments
main: primary, principal
major: significant, principal
rare: uncommon, unusual
entire: whole, complete
wrong: incorrect, mistaken
possible: feasible, achievable
impossible: unachievable, unfeasible
provide: supply, offer
provides: supplies, offers
try: attempt
tries: attempts
tried: attempted
improve: enhance, boost
improves: enhances, boosts
reduce: decrease, lower
reduces: decreases, lowers
explain: describe, clarify
explains: describes, clarifies
understand: grasp, comprehend
create: make
creates: makes
allow: permit, enable
allows: permits, enables
ensure: guarantee, make sure
include: contain
includes: contains
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
discuss: talk about, examine
describe: explain, depict
mention: note
believe: think, feel
changed: modified
protect: guard, shield
information: details, data
details: particulars, specifics
advantages: benefits, strengths
disadvantage: drawback, downside
disadvantages: drawbacks, downsides
option: choice, alternative
options: choices, alternatives
choice: option, selection
choices: options, selections
types: kinds, sorts
amount: quantity
especially: particularly, notably
particularly: especially, notably
mostly: largely, mainly
mainly: chiefly, primarily
really: truly, genuinely
almost: nearly, practically
completely: entirely, totally
totally: completely, entirely
clearly: plainly, evidently
finally: lastly, ultimately
additionally: also, furthermore
furthermore: moreover, additionally
moreover: furthermore, additionally
firstly: first, to begin with
lastly: finally
during: in the course of
although: though, even though
unless: except if
excellent: outstanding, superb
terrible: awful, dreadful
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
specific: particular
similar: comparable
obvious: evident, clear
interesting: intriguing, fascinating
loud: noisy
tired: weary, exhausted
friend: companion, pal
friends: companions, pals
people: individuals, persons
person: individual
children: kids
child: kid
car: vehicle, automobile
company: firm, business
money: funds, cash
country: nation
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
