"""Meta-analysis: effect sizes (:mod:`kb.analysis.effects`), random- and fixed-effects
models (:mod:`kb.analysis.meta`), input from the knowledge base or a CSV
(:mod:`kb.analysis.data`) and forest plots (:mod:`kb.analysis.forest`).

The numbers follow R's metafor (``escalc`` and ``rma.uni`` with their defaults) and are
tested against metafor's published results on its example datasets.
"""

#: The data columns of R metafor's ``escalc``: 2x2 counts (ai, bi, ci, di with
#: group sizes n1i, n2i), means and SDs per group (m1i, sd1i, m2i, sd2i) and
#: single-group counts (xi of ni). The metafor export writes them and
#: ``ekb meta --data`` reads them.
ESCALC_COLUMNS: tuple[str, ...] = (
    "ai",
    "bi",
    "ci",
    "di",
    "n1i",
    "n2i",
    "m1i",
    "sd1i",
    "m2i",
    "sd2i",
    "xi",
    "ni",
)
