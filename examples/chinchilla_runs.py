"""Write chinchilla_runs.csv: synthetic language-model runs for the fitting demo (make demo).

The loss of Hoffmann et al. (2022, arXiv:2203.15556, Approach 3) at a 6 x 6 grid of model
sizes N (1e7..1e10 parameters) and training tokens D (1e9..1e12), times 1 % log-normal noise
(seed 0): L = 1.69 + 406.4 N^-0.34 + 410.7 D^-0.28. A fit should recover these numbers within
its intervals (see docs/fitting.md).

Run:  python examples/chinchilla_runs.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28

rng = np.random.default_rng(0)
n, d = (g.ravel() for g in np.meshgrid(np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e12, 6)))
loss = (E + A * n**-ALPHA + B * d**-BETA) * np.exp(0.01 * rng.standard_normal(n.size))
frame = pd.DataFrame({"N": n, "D": d, "loss": loss.round(5)})
frame.to_csv(Path(__file__).with_suffix(".csv"), index=False, float_format="%.6g")
