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
# # The estimators on public data
#
# `reintegration_effects` estimates programme effects on a municipality's register data, but its
# estimators take any DataFrame. This notebook checks them where the answer is known:
#
# 1. **NSW** (LaLonde 1986; Dehejia and Wahba 1999): the National Supported Work experiment raised
#    1978 earnings of its participants by **$1,794** (treated mean minus experimental control
#    mean). `PropensityMatching` and `DoublyRobustATT` on the experimental sample must find it
#    within their confidence intervals; on the observational comparison (NSW participants against
#    the CPS), they show how far selection on observables gets.
# 2. **Rossi** (Rossi, Berk and Lenihan 1980; the lifelines example): a Cox model of re-arrest,
#    fitted with `CoxModel` and with lifelines' `CoxPHFitter`: the same coefficients,
#    log-likelihood and likelihood-ratio test.
#
# Data come from the PyPI packages `causaldata` and `lifelines`. CI executes this notebook.

# %%
import causaldata
import lifelines
import numpy as np
import pandas as pd
from lifelines.datasets import load_rossi

import reintegration_effects as re

print("reintegration_effects", re.__version__)

# %% [markdown]
# ## 1. NSW: the experimental benchmark

# %%
nsw = causaldata.nsw_mixtape.load_pandas().data
covariates = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
experimental = nsw.loc[nsw.treat == 1, "re78"].mean() - nsw.loc[nsw.treat == 0, "re78"].mean()
print(f"experimental benchmark: ${experimental:,.0f} ({int((nsw.treat == 1).sum())} treated, "
      f"{int((nsw.treat == 0).sum())} controls)")

# %% [markdown]
# The propensity model is an unpenalised maximum-likelihood logit that either reaches the
# maximum or says why not (separation, collinearity, a constant column). On the raw earnings it
# agrees with statsmodels' `Logit`:

# %%
import statsmodels.api as sm  # noqa: E402

ps = re.PropensityModel().fit(nsw, treatment="treat", covariates=covariates)
sm_fit = sm.Logit(nsw["treat"], sm.add_constant(nsw[covariates])).fit(method="newton", disp=0)
print(f"log-likelihood: package {ps.log_likelihood:.6f}, statsmodels {sm_fit.llf:.6f}; "
      f"converged in {ps.n_iter} Newton steps")
assert abs(ps.log_likelihood - sm_fit.llf) < 1e-6

# %%
matching = re.PropensityMatching(n_neighbors=1, bias_correction=True, random_state=1).fit(
    nsw, outcome="re78", treatment="treat", covariates=covariates)
matching.summary

# %%
dr = re.DoublyRobustATT(random_state=1).fit(nsw, outcome="re78", treatment="treat", covariates=covariates)
dr.summary

# %%
results = pd.DataFrame({
    "estimate": [matching.estimate, dr.estimate],
    "ci_lower": [matching.conf_int()[0], dr.conf_int()[0]],
    "ci_upper": [matching.conf_int()[1], dr.conf_int()[1]],
}, index=["PropensityMatching", "DoublyRobustATT"]).round(0)
results["covers $1,794"] = (results.ci_lower <= experimental) & (experimental <= results.ci_upper)
results

# %%
assert results["covers $1,794"].all(), results

# %% [markdown]
# Balance of the covariates before and after matching (standardised differences; |d| < 0.1 is
# the usual rule of thumb):

# %%
matching.balance.round(3)

# %%
ax = matching.plot_balance()

# %% [markdown]
# ## NSW participants against the CPS
#
# The hard case of LaLonde (1986): the comparison group is 15,992 CPS respondents, most of them far
# from the participants in earnings and background. Dehejia and Wahba (1999) showed that
# propensity-score methods on these covariates come close to the benchmark; how close depends on
# the specification. The numbers below are what these estimators give, not a tuned result.

# %%
cps = causaldata.cps_mixtape.load_pandas().data
obs = pd.concat([nsw[nsw.treat == 1], cps.assign(treat=0)], ignore_index=True)
obs["age2"], obs["educ2"] = obs.age ** 2, obs.educ ** 2
obs["u74"], obs["u75"] = (obs.re74 == 0).astype(int), (obs.re75 == 0).astype(int)
obs_covariates = covariates + ["age2", "educ2", "u74", "u75"]
naive = obs.loc[obs.treat == 1, "re78"].mean() - obs.loc[obs.treat == 0, "re78"].mean()
obs_matching = re.PropensityMatching(n_neighbors=5, caliper=0.2, bias_correction=True, random_state=1).fit(
    obs, outcome="re78", treatment="treat", covariates=obs_covariates)
obs_dr = re.DoublyRobustATT(random_state=1).fit(obs, outcome="re78", treatment="treat", covariates=obs_covariates)
pd.DataFrame({"estimate": [naive, obs_matching.estimate, obs_dr.estimate],
              "std_error": [np.nan, obs_matching.std_error, obs_dr.std_error]},
             index=["raw difference", "PropensityMatching (5-NN, caliper 0.2 SD)", "DoublyRobustATT"]).round(0)

# %% [markdown]
# ## 2. Rossi: a Cox model against lifelines

# %%
rossi = load_rossi()
rossi_covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
ours = re.CoxModel().fit(rossi, duration_col="week", event_col="arrest", covariates=rossi_covariates)
theirs = lifelines.CoxPHFitter().fit(rossi, duration_col="week", event_col="arrest")
comparison = pd.DataFrame({"package": ours.summary["estimate"].to_numpy(),
                           "lifelines": theirs.params_.loc[rossi_covariates].to_numpy()}, index=rossi_covariates)
comparison.round(4)

# %%
lr_ours, lr_theirs = ours.log_likelihood_ratio_test(), theirs.log_likelihood_ratio_test()
print(f"log-likelihood {ours.log_likelihood:.4f} (lifelines {theirs.log_likelihood_:.4f}); "
      f"LR test {lr_ours.statistic:.3f} on {lr_ours.degrees_freedom} df (lifelines {lr_theirs.test_statistic:.3f}); "
      f"AIC {ours.aic:.3f} (lifelines {theirs.AIC_partial_:.3f})")
assert np.allclose(comparison["package"], comparison["lifelines"], atol=1e-6)
assert abs(ours.log_likelihood - theirs.log_likelihood_) < 1e-6
