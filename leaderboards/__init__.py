"""Leaderboards: markdown tables (tabulate) and PNG plots (matplotlib) from run results.

``render`` holds pure functions from result dicts to markdown; ``paired`` the paired
comparisons of RMs; ``bon`` the best-of-N section (drawn by ``harness.bon.report``); ``plots``
draws the other figures; ``summary`` the short tables ``harness eval`` and ``harness run`` print;
``publish`` reads run folders and writes ``README.md`` plus PNGs that it embeds by relative path,
so the page renders on GitHub.
"""
