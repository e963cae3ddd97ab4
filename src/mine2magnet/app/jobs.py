"""Runs started from the web app: queued, executed in background worker processes, watched live.

Each run is the command line's own ``mine2magnet run SPEC --out DIR --store STORE --keep`` in a child
process, so a run from the browser gives exactly what the same command gives in a terminal (the same report,
summary and results store), a crash in a run cannot take the server down, and a failed run leaves the store
as the command line would (intact, the run marked failed). Progress is the child's last line on stderr; a
failure keeps the one-line error the command prints.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The command line, started as ``python -c`` so it is the same interpreter and package as the server's.
CLI = (
    sys.executable,
    "-c",
    "import sys; from mine2magnet.cli import main; sys.argv[0] = 'mine2magnet'; main()",
)

#: Job states, in order.
STATES = ("queued", "running", "complete", "failed")


@dataclass
class Job:
    """One run asked for from the app."""

    id: str
    scenario: str  # what the user chose: a built-in scenario or a variant name
    spec: str  # what the command line is given: a built-in name or the variant's file
    out: Path
    status: str = "queued"
    progress: str = ""
    error: str = ""
    created_utc: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    started_utc: str = ""
    finished_utc: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    order: int = 0  # submission order in the queue (timestamps tie within a second)

    @property
    def run_id(self) -> str | None:
        return self.summary.get("run_id")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario,
            "status": self.status,
            "progress": self.progress,
            "error": self.error,
            "created_utc": self.created_utc,
            "started_utc": self.started_utc,
            "finished_utc": self.finished_utc,
            "run_id": self.run_id,
            "report": f"/runs/{self.id}/report.html" if self.status == "complete" else None,
        }


class JobQueue:
    """Runs queued in order and executed ``workers`` at a time, each in a child process."""

    def __init__(
        self, store: Path, jobs_folder: Path, workers: int = 2, extra_args: Sequence[str] = ()
    ) -> None:
        self.store = Path(store)
        self.folder = Path(jobs_folder)
        self.extra_args = tuple(extra_args)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mine2magnet-run")

    def submit(self, scenario: str, spec: str) -> Job:
        """Queue a run of ``spec`` (shown as ``scenario``); returns the job at once."""
        job_id = uuid.uuid4().hex[:12]
        with self._lock:
            job = Job(job_id, scenario, spec, self.folder / job_id, order=len(self._jobs))
            self._jobs[job_id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.order, reverse=True)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def command(self, job: Job) -> list[str]:
        """The command line that runs ``job``."""
        # --keep: every run asked for here is its own entry (a repeat must not replace a run the page lists)
        store = ["--store", str(self.store), "--keep"]
        return [*CLI, "run", job.spec, "--out", str(job.out), *store, *self.extra_args]

    def _run(self, job: Job) -> None:
        job.status, job.started_utc = "running", _now()
        job.out.mkdir(parents=True, exist_ok=True)
        try:
            process = subprocess.Popen(
                self.command(job),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            job.status, job.error, job.finished_utc = "failed", f"cannot start the run: {exc}", _now()
            return
        lines: list[str] = []
        with process:
            assert process.stderr is not None
            for raw in process.stderr:
                line = raw.strip()
                if line:
                    lines.append(line)
                    job.progress = line[-200:]
            code = process.wait()
        job.finished_utc = _now()
        summary = job.out / "summary.json"
        if code == 0 and summary.is_file():
            job.summary = json.loads(summary.read_text(encoding="utf-8"))
            job.status, job.progress = "complete", "done"
        else:
            job.status = "failed"
            job.error = _error_line(lines) or f"the run exited with code {code}"


def _error_line(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        if line.lower().startswith(("error", "aborted")):
            return line
    return lines[-1] if lines else ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
