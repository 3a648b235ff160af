"""The slides' background, runnable: EM, KL divergences, mean-field VI, estimators."""
