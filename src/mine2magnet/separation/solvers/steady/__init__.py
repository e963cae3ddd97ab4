"""Steady-state solvers: banded block-tridiagonal algebra, linear (constant-distribution) cascades, the
stage-wise Newton of the physical models, the loaded-separation-factor solvers and :func:`.simulate.simulate`,
which picks among them."""
