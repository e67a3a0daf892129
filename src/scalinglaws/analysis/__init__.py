"""Analyses built on both sides: spectra and their power laws, summaries, recipes, fits.

=====================  ==========================================================
module                 what it holds
=====================  ==========================================================
``spectra``            covariance and random-feature spectra (exact and sampled)
``powerlaw``           power-law fits of spectra, local slopes, cut-offs
``spectrum_analysis``  the spectrum of a model or dataset, fitted (a recipe)
``realdata_summary``   measured loss on real data beside the theory
``experiments``        the paper's standard experiments as Datasets (recipes)
``fits``               robust fits of measured scaling laws (``scalinglaws.fit``)
``model_fit``          the solvable model fitted to measured (N, P, loss)
``allocation``         compute-optimal allocation of a fitted law under C = k N D
``heldout``            held-out extrapolation: fit below a threshold, score above it
=====================  ==========================================================
"""
