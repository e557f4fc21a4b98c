"""Build-time tools run from a checkout, never at run time: they are not part of the installed
package (``pyproject.toml`` installs ``harness``, ``transforms``, ``baselines``, ``crome`` and
``leaderboards`` only). ``make_embedded`` writes the sample data shipped in
``harness/data/embedded/``."""
