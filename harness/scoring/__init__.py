"""Scoring: one encoding (template + truncation), one forward (rewards of a batch), reward-model
adapters, and the cached, length-sorted scorer that every suite and the trainer share."""
