"""Equilibrium models: distribution ratios as functions of acidity and free extractant (:mod:`.distribution`)
and the sourced extractant parameter sets (:mod:`.extractants`). Imports only the contract below it."""
