"""The contract of a cascade: the spec a user writes (:mod:`.spec`) and the result every solver returns
(:mod:`.result`). Imports nothing else from the separation package."""
