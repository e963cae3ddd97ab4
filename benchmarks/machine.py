"""What a benchmark prints about the machine it ran on: processor model and load average."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The processor's model name (/proc/cpuinfo), or what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
