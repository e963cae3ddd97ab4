"""mine2magnet: rare-earth value chains from mine to magnet.

Layers, each importing only from below (see DESIGN.md): elements, data, separation, process, chain,
scenario, analysis, store, report, cli.
"""

__version__ = "0.1.0"
