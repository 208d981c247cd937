"""What a fetch run reports: one ``Outcome`` per URL, one ``ListingOutcome`` per feed or sitemap, and the run's
``HarvestReport`` with the summary admins read."""

from __future__ import annotations

from dataclasses import dataclass, field

ADDED, CHANGED, UNCHANGED, KNOWN, FAILED = "added", "changed", "unchanged", "known", "failed"


@dataclass
class Outcome:
    """What happened to one URL."""

    url: str
    status: str  # added | changed | unchanged (downloaded, same text) | known (not downloaded) | failed
    title: str = ""
    reason: str = ""
    listing: str = ""  # the feed or sitemap the link came from ("" for a source given directly)


@dataclass
class ListingOutcome:
    url: str
    kind: str
    links: int = 0
    not_modified: bool = False


@dataclass
class HarvestReport:
    """Everything one run did, per URL."""

    outcomes: list[Outcome] = field(default_factory=list)
    listings: list[ListingOutcome] = field(default_factory=list)
    left: int = 0  # links left for the next run (the page limit, or a stop)
    requests: int = 0
    seconds: float = 0.0
    budget: float | None = None  # the run's time budget in seconds, when it was used up

    def _with(self, *statuses: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def added(self) -> list[Outcome]:
        return self._with(ADDED)

    @property
    def changed(self) -> list[Outcome]:
        return self._with(CHANGED)

    @property
    def skipped(self) -> list[Outcome]:
        return self._with(UNCHANGED, KNOWN)

    @property
    def failed(self) -> list[Outcome]:
        return self._with(FAILED)

    @property
    def stored(self) -> bool:
        return bool(self.added or self.changed)

    def summary(self) -> str:
        line = f"added {len(self.added)}, changed {len(self.changed)}, skipped {len(self.skipped)}, failed {len(self.failed)}"
        if self.budget is not None:
            line += f"; the run's time budget of {self.budget:g} s was used up"
        if self.left:
            line += f"; {self.left} link(s) left for the next run"
        return line
