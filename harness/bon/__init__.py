"""Best-of-N: a policy samples N responses per prompt once (the shared pool), every reward model
picks its arg-max among the first n, and each suite scores the picks (a judge for safety, an
answer check for GSM8K). Because all RMs choose from the same stored samples, they differ only in
what they select.

Modules: ``suites`` (the registered suites, each one object: data, prompts, evaluation, rows),
``metrics`` (pure metric functions), ``policies`` (who samples), ``pool`` (the stored, resumable
samples), ``judges`` (refusal and harm labels), ``gsm8k`` (lm-eval's answer extraction),
``runner`` (the pipeline, run as a ``BonJob`` of the config), ``report`` (the result's shape, the
one table and the one set of curves), ``plots`` (drawing a curve vs n) and ``errors`` (the one
error for bad settings or missing pieces).
"""
