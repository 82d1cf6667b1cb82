# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 Effects
#
# Programme effects in the dynamic 'now versus not now' design: by target group, three methods side by side, balance, overlap and the risk sets used.
#
# A thin notebook: every cell calls one method of `reintegration_effects.report.Report`, which reads
# the protected tables in `OUT/tables` and returns the part in two renderings (HTML for report.html,
# Markdown for report.pdf). No logic lives here. `write_report` runs it with the parameters injected
# below the parameters cell; to run it by hand, set `out` to a run's output folder.

# %% tags=["parameters"]
out = "reports/default"  # the run's output folder (the report reads out/tables/*.csv only)
lang = "nl"  # "nl" (default) or "en"
context = None  # JSON file with municipality, data window and manifest (written by write_report)
figures = None  # folder for the static figures (default: a temporary folder)
strict = False  # True: stop at the first part that cannot be made (tests)

# %%
from reintegration_effects.report import Report  # noqa: E402 (after the parameters cell)

report = Report.from_folder(out, lang=lang, context=context, figures=figures, strict=strict)

# %%
report.chapter("effects")

# %%
report.intro("effects")

# %%
report.programme_descriptions()

# %%
report.effects_forest()

# %%
report.effects_methods_chart()

# %%
report.effects_overview()

# %%
report.participation_effects_note()

# %%
report.duration_intro()

# %%
report.effects_curves_figure("on_bijstand")

# %%
report.effects_curves_figure("work_off_bijstand")

# %%
report.rmst_table()

# %%
report.rmst_sensitivity()

# %%
report.timing_of_events_intro()

# %%
report.timing_of_events_table()

# %%
report.timing_of_events_heterogeneity()

# %%
report.blp_table()

# %%
report.sensitivity_table()

# %%
report.policy_table()
