"""Solvers of cascades: steady state (:mod:`.steady`), many cascades at once (:mod:`.batch`) and over time
(:mod:`.dynamics`). Imports only the equilibrium models and the contract below them."""
