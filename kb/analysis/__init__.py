"""Meta-analysis: effect sizes (:mod:`kb.analysis.effects`), random- and fixed-effects
models (:mod:`kb.analysis.meta`), input from the knowledge base or a CSV
(:mod:`kb.analysis.data`) and forest plots (:mod:`kb.analysis.forest`).

The numbers follow R's metafor (``escalc`` and ``rma.uni`` with their defaults) and are
tested against metafor's published results on its example datasets.
"""
