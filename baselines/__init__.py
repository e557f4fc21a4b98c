"""Baseline training-data methods: Vanilla (the pairs as given) and RRM (Liu et al., 2024)."""
