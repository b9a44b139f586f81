"""Risk of bias per study result: RoB 2 and ROBINS-I V2 forms, judgements, robvis exports.

- :mod:`kb.rob.rob2` — RoB 2 signalling questions and the published decision rules;
- :mod:`kb.rob.robins_i` — ROBINS-I V2 domains, response options, judgements, overall rule;
- :mod:`kb.rob.assessment` — a YAML form checked and judged (proposed, final, override);
- :mod:`kb.rob.robvis` — the robvis table and the traffic-light and summary plots.
"""

from kb.rob.assessment import Assessment, Judgement, RobFormError, assess, assess_file

__all__ = ["Assessment", "Judgement", "RobFormError", "assess", "assess_file"]
