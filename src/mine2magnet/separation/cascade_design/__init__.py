"""Design of a cut: closed-form theory (:mod:`.theory`), the cut problem (:mod:`.problem`), McCabe–Thiele
stepping (:mod:`.stepping`), the batched mixing-factor solver of the search (:mod:`.lsf`), the
loaded-separation-factor design search (:mod:`.search`), the physical design (:mod:`.physical`), the entry
point :func:`.design.design` and the persistent design cache (:mod:`.cache`). Imports the solvers, equilibrium
models and contract below it."""
