"""Best-of-N: a policy samples N responses per prompt once (the shared pool), every reward model
picks its arg-max among the first n, and a judge (safety) or an answer check (GSM8K) scores the
pick. Because all RMs choose from the same stored samples, they differ only in what they select.

Modules: ``policies`` (who samples), ``pool`` (the stored, resumable samples), ``judges`` (refusal
and harm labels), ``gsm8k`` (lm-eval's answer extraction), ``suites`` (pure metric functions),
``plots`` (curves vs n) and ``runner`` (the ``harness bon`` pipeline).
"""
