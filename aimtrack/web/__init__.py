"""The small web page in the bot's process: /health, the Telegram webhook and the signed
export page (:mod:`aimtrack.web.app`)."""
