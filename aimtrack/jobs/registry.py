"""Every job kind, by the name it is queued under, with what it needs."""

from __future__ import annotations

from aimtrack.ai.coach import ShooterCoach
from aimtrack.core.access import Access
from aimtrack.jobs import charts, erase, export, mydata, reminders
from aimtrack.jobs.ai_results import ANSWER, INSIGHT, REFLECTION
from aimtrack.jobs.answers import AnswerJob
from aimtrack.jobs.reflections import InsightJob, ReflectionJob
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobHandler


def job_handlers(
    jobs: JobServices, *, coach: ShooterCoach | None, access: Access
) -> dict[str, JobHandler]:
    """``coach``: the model the AI jobs ask (None: the statistics answer); ``access``: who
    may be reminded besides the users allowed in the database."""
    return {
        REFLECTION: ReflectionJob(jobs, coach),
        INSIGHT: InsightJob(jobs, coach),
        ANSWER: AnswerJob(jobs, coach),
        export.EXPORT: export.ExportJob(jobs),
        charts.CHARTS: charts.ChartsJob(jobs),
        mydata.MYDATA: mydata.MyDataJob(jobs),
        erase.ERASE_FILES: erase.EraseFilesJob(jobs),
        reminders.REMINDER: reminders.ReminderJob(jobs, access=access),
    }
