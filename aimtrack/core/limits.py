"""Sane ranges, shared by input validation and the database's CHECK constraints."""

from typing import Final

MIN_DISTANCE_M: Final = 1
MAX_DISTANCE_M: Final = 2000
# Row ids are 32-bit on PostgreSQL; anything outside 1..MAX_ROW_ID cannot be a row.
MAX_ROW_ID: Final = 2**31 - 1
MAX_SHOTS: Final = 10_000
# Decimal scoring tops out at 10.9 a shot (ISSF); no discipline we serve scores more.
MAX_SCORE_PER_SHOT: Final = 10.9

MAX_NAME = 100
MAX_SHORT_TEXT = 200
MAX_NOTE = 4000
MAX_CALIBER = 40
MAX_SERIAL = 60
MAX_TIMEZONE = 64
MAX_FLOW_NAME = 40
MAX_DRAFT_BYTES = 64_000
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ORIGINAL_NAME = 255
MAX_PATH = 500
MAX_CHAT_ID = 64
MAX_EXTERNAL_ID = 64
MAX_TRANSPORT = 20
MAX_JOB_KIND = 50
MAX_IDEMPOTENCY_KEY = 200
MAX_AI_TEXT = 8000
MAX_AI_FIELD = 1500  # characters of a reflection's or trend's part; a message holds them all
MAX_AI_ANSWER = 3 * MAX_AI_FIELD  # characters of a coach answer
MAX_AI_PROVIDER = 100
MAX_AI_MODEL = 200
MAX_LEASE_OWNER = 64
MAX_JOB_ATTEMPTS = 20
MAX_JOB_PAYLOAD_BYTES = 16_000
MAX_MESSAGE_ID = 64
MAX_REMINDER_KEY = 64
