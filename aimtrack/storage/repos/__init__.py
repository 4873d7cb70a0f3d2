"""Repositories: user-scoped ones (subclasses of :class:`UserScopedRepo`) and the few that
serve the whole installation (the user directory, the update log, the job queue and the
used web links)."""

from aimtrack.storage.repos.ai import AIRepo
from aimtrack.storage.repos.attachments import AttachmentRepo
from aimtrack.storage.repos.base import UserScopedRepo
from aimtrack.storage.repos.coach import CoachRepo
from aimtrack.storage.repos.conversations import ConversationRepo
from aimtrack.storage.repos.jobs import JobQueue
from aimtrack.storage.repos.profile import ProfileRepo
from aimtrack.storage.repos.reminders import ReminderLog
from aimtrack.storage.repos.sessions import SessionRepo
from aimtrack.storage.repos.updates import UpdateLog
from aimtrack.storage.repos.userdata import UserDataRepo
from aimtrack.storage.repos.users import UserDirectory
from aimtrack.storage.repos.weapons import WeaponRepo
from aimtrack.storage.repos.web_links import WebLinkLog

__all__ = [
    "AIRepo",
    "AttachmentRepo",
    "CoachRepo",
    "ConversationRepo",
    "JobQueue",
    "ProfileRepo",
    "ReminderLog",
    "SessionRepo",
    "UpdateLog",
    "UserDataRepo",
    "UserDirectory",
    "UserScopedRepo",
    "WeaponRepo",
    "WebLinkLog",
]
