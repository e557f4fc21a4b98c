"""The one trainer every method uses: Bradley-Terry on preferred pairs, a tie term on tie pairs.

Vanilla, RRM and Crome differ only in the pairs they hand to ``train_reward_model`` and in the
weight of the tie term; backbone, steps, seed and hyper-parameters come from one ``Config``.
"""
