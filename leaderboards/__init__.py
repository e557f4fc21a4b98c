"""Leaderboards: markdown tables (tabulate) and PNG plots (matplotlib) from run results.

``render`` holds pure functions from result dicts to markdown; ``plots`` draws the figures;
``publish`` reads run folders and writes ``README.md`` plus PNGs that it embeds by relative path,
so the page renders on GitHub.
"""
